"""Change discipline against a git base: a changed document must bump metadata.version.

``riskctl lint --base REF`` reads each policy file as it was at ``REF`` (``git show
REF:path`` from the repository root; a file git sees as renamed since ``REF`` is read under
its old name) and compares the documents' canonical content,
ignoring formatting, comments and metadata.version itself. Decisions record the version
with the bundle hash, so a change under an old version number makes audits lie.

This is the only module that runs git; a missing git, a path outside a repository or a
bad ``REF`` becomes one ``change.bad-base`` finding, never a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskctl.bundle import canonical_json
from riskctl.errors import Diagnostic, Location
from riskctl.kinds import KINDS
from riskctl.loader import LoadedPolicy
from riskctl.policy import PolicyDocument
from riskctl.yamlio import parse_yaml

__all__ = ["check"]

GIT_TIMEOUT_S = 30


class _BadBaseError(Exception):
    """Why the base cannot be read; becomes the one change.bad-base finding."""


@dataclass(frozen=True, slots=True)
class _Before:
    """A document as it was at the base: its version and canonical content (None: invalid)."""

    version: int
    content: bytes | None


def check(policies: tuple[LoadedPolicy, ...], *, base: str) -> Iterator[Diagnostic]:
    """Version findings for every loaded document that changed since ``base``."""
    git = _Git(base)
    for policy in policies:
        try:
            before = git.before(Path(policy.path))
        except _BadBaseError as exc:
            yield Diagnostic(
                "change.bad-base",
                f"cannot compare with --base {base!r}: {exc}",
                Location(policy.path),
                hint="give a commit, branch or tag of the repository holding the policies",
            )
            return
        if before is not None:
            yield from _compare(policy, before, base)


def _compare(policy: LoadedPolicy, before: _Before, base: str) -> Iterator[Diagnostic]:
    version = policy.document.metadata.version
    where = policy.source.location(("metadata", "version"))
    if version < before.version:
        yield Diagnostic(
            "change.version-decreased",
            f"metadata.version went down from {before.version} at {base} to {version}",
            where,
            hint="versions only increase; decisions and audits cite them",
        )
    elif version == before.version and before.content != _content(policy.document):
        yield Diagnostic(
            "change.version-not-bumped",
            f"the document changed since {base} but metadata.version is still {version}",
            where,
            hint=f"bump metadata.version to {version + 1}",
        )


def _content(document: PolicyDocument) -> bytes:
    """Canonical JSON of the document without metadata.version."""
    dumped = document.model_dump(mode="python", by_alias=True)
    dumped["metadata"].pop("version", None)
    return canonical_json(dumped)


def _parse_before(text: str, shown: str) -> _Before | None:
    """The base version of a file, or None when it holds no readable version to compare."""
    loaded, _ = parse_yaml(text, shown)
    data: Any = loaded.data if loaded is not None else None
    metadata = data.get("metadata") if isinstance(data, dict) else None
    version = metadata.get("version") if isinstance(metadata, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        return None
    model = KINDS.get(str(data.get("kind")))
    try:
        document = model.model_validate(data) if model else None
    except ValidationError:
        document = None
    return _Before(version, _content(document) if document else None)


class _Git:
    """Reads files at the base, one repository root per directory, the base checked once."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.executable = shutil.which("git")
        self.roots: dict[Path, Path] = {}
        self.verified: set[Path] = set()
        self.renames: dict[Path, dict[str, str]] = {}

    def before(self, path: Path) -> _Before | None:
        """The file at the base; None when it is new there or holds nothing comparable."""
        file = path.resolve()
        root = self._root(file.parent)
        if root not in self.verified:
            self._verify(root)
            self.verified.add(root)
        relative = file.relative_to(root).as_posix()
        relative = self._renamed_from(root).get(relative, relative)  # a moved file is not new
        shown = self._run(root, "show", f"{self.base}:{relative}")
        return None if shown is None else _parse_before(shown, f"{self.base}:{relative}")

    def _renamed_from(self, root: Path) -> dict[str, str]:
        """New path -> path at the base, for files git sees as renamed since the base."""
        if root not in self.renames:
            listing = self._run(root, "diff", "-M", "--name-status", "-z", self.base) or ""
            fields = listing.split("\0")
            renames: dict[str, str] = {}
            index = 0
            while index < len(fields) and fields[index]:
                status = fields[index]
                if status.startswith(("R", "C")) and index + 2 < len(fields):
                    renames[fields[index + 2]] = fields[index + 1]
                    index += 3
                else:
                    index += 2
            self.renames[root] = renames
        return self.renames[root]

    def _root(self, directory: Path) -> Path:
        if directory not in self.roots:
            found = self._run(directory, "rev-parse", "--show-toplevel")
            if found is None:
                raise _BadBaseError(f"{directory} is not inside a git repository")
            self.roots[directory] = Path(found.strip()).resolve()
        return self.roots[directory]

    def _verify(self, root: Path) -> None:
        if self.base.startswith("-") or not self.base.strip():
            raise _BadBaseError("it is not a git revision")
        if self._run(root, "rev-parse", "--verify", "--quiet", f"{self.base}^{{commit}}") is None:
            raise _BadBaseError(f"no commit named {self.base!r} in {root}")

    def _run(self, cwd: Path, *args: str) -> str | None:
        """Standard output of a git command, or None when it fails."""
        if self.executable is None:
            raise _BadBaseError("git is not installed")
        try:
            done = subprocess.run(  # noqa: S603  # fixed git argv; the base is checked above
                [self.executable, "-C", str(cwd), *args],
                capture_output=True,
                timeout=GIT_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise _BadBaseError(f"git failed: {exc}") from exc
        if done.returncode != 0:
            return None
        try:
            return done.stdout.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
