"""Hygiene: nothing in a policy file may look like a credential.

Policies are reviewed, copied into tickets and sent to advisor agents; a key pasted into
one leaks everywhere. The raw text of every file read is scanned, loaded or not:

* AWS access key ids (``AKIA...``, ``ASIA...``) and PEM private key blocks, anywhere;
* a credential-named key (``api_key``, ``secret``, ``password``, ``token``,
  ``passphrase``, or a name ending in one of them) with a non-empty value, anywhere;
* long high-entropy hex or base64 strings (32+ characters) outside comments, except
  digests written with their algorithm (``sha256:...``).

A finding says which kind of secret it saw and where; it never repeats the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from riskctl.errors import Diagnostic, Location
from riskctl.secrets import PEM_BEGIN, PEM_END, secrets_in_line

__all__ = ["check"]

_WAIVER = re.compile(r"#\s*riskctl:\s*ignore\[.*$")


def check(texts: Mapping[str, str]) -> Iterator[Diagnostic]:
    """One finding per secret-looking value, for every file's raw text."""
    for path, text in texts.items():
        for number, column, what in _scan(text):
            yield Diagnostic(
                "hygiene.secret",
                f"this looks like {what}; credentials never belong in a policy file",
                Location(path, number, column),
                hint=(
                    "remove it, rotate it (it is in the file's history), and load"
                    " credentials from the environment or a secret store"
                ),
            )


def _scan(text: str) -> Iterator[tuple[int, int, str]]:
    """(line, column, kind of secret) in a file; a PEM block counts once, at its BEGIN."""
    in_block = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _WAIVER.sub("", raw)  # a waiver's reason is prose about the finding
        if in_block:
            in_block = PEM_END.search(line) is None
            continue
        begin = PEM_BEGIN.search(line)
        if begin is not None:
            in_block = PEM_END.search(line, begin.end()) is None
            yield number, begin.start() + 1, "a PEM private key block"
            continue
        for column, what in secrets_in_line(line):
            yield number, column, what
