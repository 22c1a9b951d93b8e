"""Shared test settings: a bounded hypothesis profile so the suite stays fast on 2 cores,
and ``policies``: a copy of the shipped policies a test may edit (change control)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    """The repository's policies/ copied into ``tmp_path``: edit it, the original stays."""
    copy = tmp_path / "policies"
    shutil.copytree(REPO / "policies", copy)
    return copy
