"""``riskctl show``: a one-screen bundle summary with its hash; bad bundles exit 1."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from clikit import REPO, riskctl

from riskctl.bundle import load_bundle

DATA = REPO / "tests" / "data"


def test_when_showing_the_example_policies_then_exit_0_with_hash_and_every_document() -> None:
    bundle = load_bundle(REPO / "policies")

    done = riskctl("show", "policies/")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"bundle {bundle.hash}"
    assert re.fullmatch(r"bundle sha256:[0-9a-f]{64}", lines[0])
    for ref, version in bundle.versions.items():
        row = next((line for line in lines if line.split()[:1] == [ref]), None)
        assert row is not None, ref
        assert f"v{version}" in row.split()


def test_when_format_is_json_then_hash_and_documents_parse() -> None:
    bundle = load_bundle(REPO / "policies")

    done = riskctl("show", "--format", "json", "policies")

    assert done.returncode == 0
    shown = json.loads(done.stdout)
    assert shown["hash"] == bundle.hash
    assert {d["ref"]: d["version"] for d in shown["documents"]} == bundle.versions
    assert all(Path(REPO, d["path"]).is_file() for d in shown["documents"])


def test_when_the_same_policies_are_reformatted_then_show_prints_the_same_hash(
    tmp_path: Path,
) -> None:
    for path in (REPO / "policies").glob("*.yaml"):
        text = path.read_text()
        stripped = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
        (tmp_path / f"copy-{path.name}").write_text("# reformatted copy\n" + stripped + "\n")

    done = riskctl("show", tmp_path)

    assert done.returncode == 0
    assert done.stdout.splitlines()[0] == f"bundle {load_bundle(REPO / 'policies').hash}"


def test_when_a_directory_holds_a_bad_file_then_show_exits_1_and_prints_no_bundle(
    tmp_path: Path,
) -> None:
    shutil.copy(DATA / "good" / "circuit-breakers.yaml", tmp_path / "a.yaml")
    shutil.copy(DATA / "bad" / "invalid-choice.yaml", tmp_path / "b.yaml")

    done = riskctl("show", tmp_path)

    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"{tmp_path / 'b.yaml'}:7:16: error policy.invalid-choice: spec.environment was 'prod'; "
        "it must be 'production', 'staging', 'paper' or 'backtest'",
        f"{tmp_path / 'b.yaml'}:14:23: error policy.invalid-choice: spec.defaults.on_stale_balance "
        "was 'Reduce'; it must be 'skip', 'reduce' or 'halt'",
    ]


def test_when_the_path_does_not_exist_then_show_exits_1(tmp_path: Path) -> None:
    done = riskctl("show", tmp_path / "missing")

    assert done.returncode == 1
    assert "file.not-found" in done.stderr
    assert done.stdout == ""


def test_when_show_has_no_path_then_exit_2() -> None:
    done = riskctl("show")

    assert done.returncode == 2
    assert "usage: riskctl" in done.stderr
