"""riskctl.lint.policy_directories: which bundle each changed file belongs to (pre-commit)."""

from __future__ import annotations

from pathlib import Path

from riskctl.lint import lint_bundles_of, policy_directories


def tree(root: Path, *files: str) -> Path:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("apiVersion: riskctl/v1\n", encoding="utf-8")
    return root


def test_files_of_one_directory_are_one_bundle_and_directories_stay_themselves(
    tmp_path: Path,
) -> None:
    tree(tmp_path, "a/rules.yaml", "a/risk-limits.yaml", "b/rules.yml")

    found = policy_directories([tmp_path / "a/rules.yaml", tmp_path / "a/risk-limits.yaml"])

    assert found == (tmp_path / "a",)
    assert policy_directories([tmp_path / "b", tmp_path / "a/rules.yaml"]) == (
        tmp_path / "b",
        tmp_path / "a",
    )


def test_when_a_file_is_a_policy_test_then_it_belongs_to_no_bundle(tmp_path: Path) -> None:
    tree(tmp_path, "p/rules.yaml", "p/tests/fill.test.yaml", "p/tests/contexts/order.yaml")

    found = policy_directories(
        [
            tmp_path / "p/tests/fill.test.yaml",
            tmp_path / "p/tests/contexts/order.yaml",
            tmp_path / "elsewhere/x.test.yml",
        ]
    )

    assert found == ()


def test_when_a_tests_folder_is_no_policy_directory_s_then_its_files_are_policies(
    tmp_path: Path,
) -> None:
    tree(tmp_path, "tests/data/policies/rules.yaml")

    assert policy_directories([tmp_path / "tests/data/policies/rules.yaml"]) == (
        tmp_path / "tests/data/policies",
    )


def test_when_a_directory_is_inside_another_given_then_it_is_linted_with_it(
    tmp_path: Path,
) -> None:
    tree(tmp_path, "p/rules.yaml", "p/desk/limits.yaml")

    found = policy_directories([tmp_path / "p/desk/limits.yaml", tmp_path / "p/rules.yaml"])

    assert found == (tmp_path / "p",)


def test_when_a_file_was_deleted_then_its_directory_is_still_linted(tmp_path: Path) -> None:
    tree(tmp_path, "p/rules.yaml")

    assert policy_directories([tmp_path / "p/gone.yaml"]) == (tmp_path / "p",)
    assert policy_directories([tmp_path / "nowhere/gone.yaml"]) == (tmp_path / "nowhere/gone.yaml",)


def test_bundles_of_two_directories_report_both_with_their_file_counts(tmp_path: Path) -> None:
    tree(tmp_path, "a/one.yaml", "b/two.yaml", "b/three.yaml")

    report = lint_bundles_of([tmp_path / "a/one.yaml", tmp_path / "b/two.yaml"])

    assert report.files == 3
    assert {Path(d.location.path).parent.name for d in report.diagnostics} == {"a", "b"}
