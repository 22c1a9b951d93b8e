"""The installed names: one import, ``riskctl``, and nothing named engine or venues.

engine/ is installed as ``riskctl`` and venues/ as ``riskctl.venues`` (pyproject.toml), so
a bot's own ``engine`` or ``venues`` module is never shadowed; ccxt is an extra that lint,
test and the Gate do not need.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import riskctl
import riskctl.venues

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
# The old names, spelt so that tools/rename_imports.py leaves these tests alone.
OLD, VENUES = "eng" + "ine", "ven" + "ues"
RENAME: dict[str, Any] = runpy.run_path(str(REPO / "tools" / "rename_imports.py"))
BLOCK_VENUE_DEPS = (
    "import sys\n"
    "for name in ('ccxt', 'aiohttp', 'asyncio_throttle'):\n"
    "    sys.modules[name] = None  # importing it now raises ImportError\n"
)


def python_outside_the_repo(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run code in this interpreter from a directory outside the repository."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def rewrite(text: str, *, python: bool = True) -> str:
    result: str = RENAME["rewrite"](text, RENAME["rules"](REPO), python=python)
    return result


# -- the installed distribution ------------------------------------------------------------


def test_riskctl_is_the_engine_folder_and_its_venues_the_venues_folder() -> None:
    assert Path(riskctl.__file__ or "").resolve() == REPO / OLD / "__init__.py"
    assert Path(riskctl.venues.__file__ or "").resolve() == REPO / VENUES / "__init__.py"


@pytest.mark.parametrize("name", [OLD, VENUES, f"{OLD}.gate", f"{VENUES}.instruments"])
def test_when_imported_outside_the_repo_then_the_folder_names_are_not_installed(
    tmp_path: Path, name: str
) -> None:
    result = python_outside_the_repo(tmp_path, f"import {name}")

    assert result.returncode == 1
    assert f"No module named '{name.split('.', maxsplit=1)[0]}'" in result.stderr


def test_when_imported_outside_the_repo_then_riskctl_gives_the_gate(tmp_path: Path) -> None:
    result = python_outside_the_repo(
        tmp_path, "from riskctl import Gate, load_bundle\nprint(Gate.__module__)"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "riskctl.gate"


def test_when_ccxt_is_not_installed_then_riskctl_imports_and_lints(tmp_path: Path) -> None:
    code = BLOCK_VENUE_DEPS + (
        "import riskctl, riskctl.venues.instruments\n"
        "from riskctl.cli.main import main\n"
        f"sys.exit(main(['lint', {str(REPO / 'policies')!r}, '--strict']))\n"
    )

    result = python_outside_the_repo(tmp_path, code)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_venue_dependencies_are_an_extra_that_dev_installs() -> None:
    project = PYPROJECT["project"]
    venue_deps = {d.split(">")[0].split("<")[0] for d in project["optional-dependencies"]["venues"]}

    assert {"ccxt", "asyncio-throttle"} <= venue_deps
    assert not any(d.startswith(tuple(venue_deps)) for d in project["dependencies"])
    assert "riskctl[venues]" in project["optional-dependencies"]["dev"]


def test_the_console_script_is_riskctls_cli() -> None:
    assert PYPROJECT["project"]["scripts"] == {"riskctl": "riskctl.cli.main:main"}


def test_every_subpackage_of_the_folders_is_listed_for_installation() -> None:
    setuptools = PYPROJECT["tool"]["setuptools"]
    on_disk = {"riskctl", "riskctl.venues"} | {
        prefix + ".".join(init.parent.relative_to(REPO / folder).parts)
        for folder, prefix in ((OLD, "riskctl."), (VENUES, "riskctl.venues."))
        for init in (REPO / folder).glob("*/**/__init__.py")
    }

    assert setuptools["package-dir"] == {"riskctl": OLD, "riskctl.venues": VENUES}
    assert set(setuptools["packages"]) == on_disk
    assert importlib.util.find_spec("riskctl.venues.instruments") is not None


# -- tools/rename_imports.py ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (f"from {OLD}.gate import Gate\n", "from riskctl.gate import Gate\n"),
        (f"from {OLD} import Gate\n", "from riskctl import Gate\n"),
        (f"  from {VENUES}.instruments import x\n", "  from riskctl.venues.instruments import x\n"),
        (f"from {VENUES} import instruments\n", "from riskctl.venues import instruments\n"),
        (f'main = "{OLD}.cli.main:main"\n', 'main = "riskctl.cli.main:main"\n'),
        (f"python -m {OLD}.cli lint\n", "python -m riskctl.cli lint\n"),
        (f'mock.patch("{OLD}.gate.time")\n', 'mock.patch("riskctl.gate.time")\n'),
        (f":class:`~{OLD}.errors.Diagnostic`\n", ":class:`~riskctl.errors.Diagnostic`\n"),
        (f"import {OLD}.gate as g\n", "import riskctl.gate as g\n"),
        (f"import {OLD}\n\nx = {OLD}.__all__, getattr({OLD}, 'Gate')\n", "import riskctl\n\n"
         "x = riskctl.__all__, getattr(riskctl, 'Gate')\n"),
    ],
)  # fmt: skip
def test_rename_rewrites_imports_and_dotted_references(old: str, new: str) -> None:
    assert rewrite(old) == new
    assert rewrite(new) == new  # idempotent


@pytest.mark.parametrize(
    "text",
    [
        f"see {OLD}/gate.py and tests/unit/{OLD}/test_gate.py\n",
        f"self.{OLD}.gate = 1\n",
        f"the {OLD}. Then the {OLD} runs; bench_{OLD}.py\n",
        f"x = {OLD}.nosuchmodule\n",
        f"from {OLD}room import x\n",
    ],
)
def test_rename_leaves_paths_attributes_and_other_words_alone(text: str) -> None:
    assert rewrite(text) == text


def test_rename_rewrites_readme_snippets_but_no_bare_name() -> None:
    text = f"```python\nfrom {OLD} import Gate\n```\nThe {OLD} folder.\n"

    assert rewrite(text, python=False) == "```python\nfrom riskctl import Gate\n```\nThe " + (
        f"{OLD} folder.\n"
    )


def test_rename_check_finds_nothing_left_to_rename_in_the_repository() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "rename_imports.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stdout) == (0, "")
