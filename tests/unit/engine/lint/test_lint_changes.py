"""lint_paths(base=REF): a changed document must bump metadata.version; bad refs never trace."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from riskctl.lint import lint_paths

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git executable")

POLICY = """\
# Rules for the change-discipline tests.
apiVersion: riskctl/v1
kind: Rules
metadata:
  name: {name}
  version: {version}
  owner: desk-crypto
spec:
  rules:
    - id: {name}-stale
      stage: ingest
      when: event.age_ms > {age}
      message: Old data.
"""
VERSION_AT = (6, 12)  # line and column of metadata.version's value


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose first commit holds policies/rules.yaml at version 3."""
    root = tmp_path / "repo"
    (root / "policies").mkdir(parents=True)
    git(root, "init", "-q")
    write(root, version=3, age=3000)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    return root


def write(root: Path, *, version: int, age: int, name: str = "rules.yaml") -> Path:
    path = root / "policies" / name
    path.write_text(POLICY.format(name=path.stem, version=version, age=age), encoding="utf-8")
    return path


def findings(path: Path | list[Path], base: str = "HEAD") -> list[tuple[int, int, str]]:
    paths = path if isinstance(path, list) else [path]
    report = lint_paths(paths, base=base)
    return [(d.location.line, d.location.column, d.code) for d in report.diagnostics]


def test_when_nothing_changed_then_there_is_no_finding(repo: Path) -> None:
    assert findings(repo / "policies" / "rules.yaml") == []


def test_when_the_content_changed_and_the_version_was_bumped_then_there_is_no_finding(
    repo: Path,
) -> None:
    assert findings(write(repo, version=4, age=2500)) == []


def test_when_the_content_changed_but_the_version_did_not_then_version_not_bumped(
    repo: Path,
) -> None:
    path = write(repo, version=3, age=2500)

    report = lint_paths([path], base="HEAD")

    assert findings(path) == [(*VERSION_AT, "change.version-not-bumped")]
    assert "HEAD" in report.diagnostics[0].message
    assert report.diagnostics[0].hint == "bump metadata.version to 4"


def test_when_only_comments_and_layout_changed_then_the_version_may_stay(repo: Path) -> None:
    path = repo / "policies" / "rules.yaml"
    text = path.read_text(encoding="utf-8").replace("# Rules for", "# The rules for")
    path.write_text(text.replace("event.age_ms > 3000", '"event.age_ms > 3000"  # 3 s'))

    assert findings(path) == []


def test_when_the_version_went_down_then_version_decreased(repo: Path) -> None:
    assert findings(write(repo, version=2, age=3000)) == [(*VERSION_AT, "change.version-decreased")]


def test_when_the_file_is_new_at_the_base_then_there_is_no_finding(repo: Path) -> None:
    path = write(repo, version=1, age=100, name="new.yaml")

    assert findings(path) == []


def test_when_the_base_is_a_branch_or_commit_then_it_is_compared(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo, version=4, age=2500)
    git(repo, "commit", "-q", "-am", "second")
    path = write(repo, version=4, age=2000)

    assert findings(path, base=first) == []
    assert findings(path, base="HEAD") == [(*VERSION_AT, "change.version-not-bumped")]


def test_when_the_file_was_invalid_at_the_base_then_a_change_still_needs_a_bump(
    repo: Path,
) -> None:
    path = repo / "policies" / "rules.yaml"
    path.write_text(
        POLICY.format(name="rules", version=3, age=3000).replace("stage: ingest", "stage: nowhere")
    )
    git(repo, "commit", "-q", "-am", "broken")
    write(repo, version=3, age=3000)

    assert findings(path) == [(*VERSION_AT, "change.version-not-bumped")]


@pytest.mark.parametrize("base", ["no-such-branch", "--output=/tmp/x", "HEAD:policies", " "])
def test_when_the_base_is_bad_then_one_change_bad_base_and_no_traceback(
    repo: Path, base: str
) -> None:
    first = write(repo, version=3, age=2500)
    second = write(repo, version=1, age=10, name="other.yaml")

    report = lint_paths([first, second], base=base)

    assert [d.code for d in report.diagnostics] == ["change.bad-base"]
    assert "--base" in report.diagnostics[0].message


def test_when_the_policies_are_not_in_a_repository_then_change_bad_base(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    path = outside / "rules.yaml"
    path.write_text(POLICY.format(name="rules", version=1, age=10), encoding="utf-8")

    assert [code for _, _, code in findings(path)] == ["change.bad-base"]


def test_when_linting_a_directory_then_each_file_is_compared_by_its_path(repo: Path) -> None:
    write(repo, version=3, age=2500)
    write(repo, version=1, age=10, name="new.yaml")

    report = lint_paths([repo / "policies"], base="HEAD")

    assert [(Path(d.location.path).name, d.code) for d in report.diagnostics] == [
        ("rules.yaml", "change.version-not-bumped")
    ]


def test_when_a_file_was_renamed_and_changed_without_a_bump_then_version_not_bumped(
    repo: Path,
) -> None:
    git(repo, "mv", "policies/rules.yaml", "policies/moved.yaml")
    path = repo / "policies" / "moved.yaml"
    path.write_text(path.read_text().replace("3000", "2500"), encoding="utf-8")

    assert findings(path) == [(*VERSION_AT, "change.version-not-bumped")]


def test_when_a_file_was_only_renamed_then_there_is_no_finding(repo: Path) -> None:
    git(repo, "mv", "policies/rules.yaml", "policies/moved.yaml")

    assert findings(repo / "policies" / "moved.yaml") == []
