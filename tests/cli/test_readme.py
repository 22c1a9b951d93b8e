"""The README's two commands stay true: both blocks exist, CI runs the test block, and the
main job's riskctl steps succeed on the example policies (installation is CI's part)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
BIN = Path(sys.executable).parent


def block(name: str) -> str:
    match = re.search(rf"<!-- {name} -->\n```sh\n(.+?)\n```\n<!-- /{name} -->", README, re.S)
    assert match, f"README.md has no {name} block"
    return match.group(1).strip()


def test_readme_has_an_install_and_run_command_and_an_install_and_test_command() -> None:
    main, tests = block("main-command"), block("test-command")
    assert main.startswith("tools/install.sh && ")
    assert tests.startswith("tools/install.sh && ")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_read_from_the_readme() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "readme_block test-command" in script
    assert 'bash -c "$test_command"' in script


def test_install_script_installs_from_the_hash_pinned_lock_file() -> None:
    script = (ROOT / "tools" / "install.sh").read_text()
    assert "--require-hashes -r requirements.lock" in script
    lock = (ROOT / "requirements.lock").read_text()
    for name in ("pydantic==", "ruamel-yaml==", "jsonschema==", "simpleeval==", "ccxt=="):
        assert name in lock
    assert "--hash=sha256:" in lock


@pytest.mark.slow  # the main job replays the whole sample session
def test_the_main_command_riskctl_steps_succeed_on_the_example_policies() -> None:
    steps = [s.strip() for s in block("main-command").split("&&")][1:]
    assert steps, "the main command runs nothing after installing"
    for step in steps:
        argv = shlex.split(step)
        assert argv[0] == ".venv/bin/riskctl", step
        done = subprocess.run(
            [str(BIN / "riskctl"), *argv[1:]],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, (step, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr
