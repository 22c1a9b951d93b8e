"""Running the real CLI as a user does: a subprocess of the installed ``riskctl``.

Imported by the CLI tests beside it (pytest puts this directory on sys.path).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RISKCTL = Path(sys.executable).parent / "riskctl"


def riskctl(
    *args: str | Path, cwd: Path = REPO, input_text: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``riskctl ARGS`` (``input_text`` on stdin); bad input must never end in a traceback."""
    done = subprocess.run(
        [str(RISKCTL), *map(str, args)],
        cwd=cwd,
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in done.stderr
    assert "Traceback" not in done.stdout
    return done
