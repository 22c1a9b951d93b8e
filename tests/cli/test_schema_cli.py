"""``riskctl schema``: the committed schemas are current; --check names stale files."""

from __future__ import annotations

import shutil
from pathlib import Path

from clikit import REPO, riskctl


def test_when_checking_the_repository_schemas_then_exit_0() -> None:
    done = riskctl("schema", "--check")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "schemas: schemas are up to date"


def test_when_one_schema_in_a_copy_was_edited_then_check_exits_1_and_names_only_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "schemas"
    shutil.copytree(REPO / "schemas", out)
    edited = out / "risk-limits.schema.json"
    changed = edited.read_text().replace("Largest quantity", "Biggest quantity")
    assert changed != edited.read_text()
    edited.write_text(changed)

    done = riskctl("schema", "--check", "--out", out)

    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{edited}: differs from the models",
        "run `riskctl schema` to regenerate",
    ]
    assert edited.read_text() == changed  # --check never writes


def test_when_a_copy_of_the_committed_schemas_loses_a_file_then_check_names_it(
    tmp_path: Path,
) -> None:
    out = tmp_path / "schemas"
    shutil.copytree(REPO / "schemas", out)
    (out / "rules.schema.json").unlink()

    done = riskctl("schema", "--check", "--out", out)

    assert done.returncode == 1
    assert f"{out / 'rules.schema.json'}: missing" in done.stderr.splitlines()


def test_when_schemas_are_written_then_they_equal_the_committed_ones_and_check_passes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "fresh"

    done = riskctl("schema", "--out", out)

    assert done.returncode == 0
    committed = sorted(p.name for p in (REPO / "schemas").glob("*.schema.json"))
    assert sorted(p.name for p in out.iterdir()) == committed
    assert len(done.stdout.splitlines()) == len(committed)
    for name in committed:
        assert (out / name).read_text() == (REPO / "schemas" / name).read_text(), name
    checked = riskctl("schema", "--check", "--out", out)
    assert checked.returncode == 0
    assert checked.stdout.strip() == f"{out}: schemas are up to date"
