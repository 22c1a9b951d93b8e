"""What a secret looks like: the one detector behind lint's hygiene check and every redaction.

Lint's hygiene check reports what :func:`secrets_in_line` finds in a policy file;
:func:`redact` blanks the same shapes (and ``key=value`` credentials anywhere in a line)
in every message riskctl prints, stores or returns: diagnostics, decisions, CLI errors.

* AWS access key ids (``AKIA...``, ``ASIA...``) and PEM private key blocks;
* a credential-named key (``api_key``, ``secret``, ``password``, ``token``, ``passphrase``,
  or a name ending in one of them) with a non-empty value;
* long high-entropy hex or base64 strings (32+ characters), except digests written with
  their algorithm (``sha256:...``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator

__all__ = ["MASK", "PEM_BEGIN", "PEM_END", "redact", "secret_kind", "secrets_in_line"]

MASK = "***"
_CREDENTIAL_KEY = (
    r"[a-z0-9_.-]*?(?:api[_-]?key|secret|password|passwd|token|passphrase|private[_-]?key)"
)

_AWS = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_KEYED = re.compile(
    r"""(?ix)
    (?:^[ \t]*(?:-[ \t]+)?|[{,?&\#][ \t]*)      # where a key starts: a line, a flow map, a query
    ["']?
    (?P<key>CREDENTIAL_KEY)
    ["']?\s*[:=][ \t]*
    (?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,}\#]+)
    """.replace("CREDENTIAL_KEY", _CREDENTIAL_KEY)
)
# In a message a credential may follow any word ("login failed: password=hunter2").
_KEYED_ANYWHERE = re.compile(
    rf"""(?i)(?<![a-z0-9])(?P<key>{_CREDENTIAL_KEY})["']?\s*[:=]\s*(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s"',}}]+)"""
)
_PEM_BLOCK = re.compile(  # to its END line, or to the end of the text when cut short
    rf"{PEM_BEGIN.pattern}(?:[\s\S]*?{PEM_END.pattern}|[\s\S]*)"
)
_HEX_RUN = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
_TOKEN = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/=_-]{32,}(?![A-Za-z0-9+/=_-])")
_DIGEST = re.compile(r"(?i)(?:sha1|sha224|sha256|sha384|sha512|md5|blake2b?):$")
_EMPTY_VALUES = {'""', "''", "~", "null", "Null", "NULL", "|", ">", "|-", ">-"}


def secret_kind(text: str) -> str | None:
    """What kind of secret ``text`` holds, if it looks like one (for redacting echoes)."""
    if PEM_BEGIN.search(text):
        return "a PEM private key block"
    return next((what for _, what in secrets_in_line(text)), None)


def secrets_in_line(line: str) -> Iterator[tuple[int, str]]:
    """(1-based column, kind of secret) of each secret-looking value on one YAML line."""
    for start, _, what in _spans(line, _KEYED, line[: _comment_start(line)]):
        yield start + 1, what


def redact(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``***`` (keys stay readable)."""
    text = _PEM_BLOCK.sub(MASK, text)
    return "\n".join(_redact_line(line) for line in text.split("\n"))


def _redact_line(line: str) -> str:
    spans = sorted((start, end) for start, end, _ in _spans(line, _KEYED_ANYWHERE, line))
    for start, end in reversed(spans):  # from the right, so earlier offsets stay valid
        line = line[:start] + MASK + line[end:]
    return line


def _spans(line: str, keyed: re.Pattern[str], code: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, kind) of each secret on a line; random strings only within ``code``."""
    spans: list[range] = []  # what was found, so one value counts once

    def fresh(start: int, end: int) -> bool:
        if any(start in span or end - 1 in span for span in spans):
            return False
        spans.append(range(start, end))
        return True

    for match in _AWS.finditer(line):
        if fresh(*match.span()):
            yield *match.span(), "an AWS access key id"
    for match in keyed.finditer(line):
        value = match.group("value")
        if value not in _EMPTY_VALUES and fresh(*match.span("value")):
            yield *match.span("value"), f"a credential under the key {match.group('key')!r}"
    for pattern, judge in ((_HEX_RUN, _random_hex), (_TOKEN, _random_base64)):
        for match in pattern.finditer(code):
            what = judge(match.group())
            if what and not _DIGEST.search(code[: match.start()]) and fresh(*match.span()):
                yield *match.span(), what


def _random_hex(token: str) -> str | None:
    mixed = any(c.isdigit() for c in token) and any(c.isalpha() for c in token)
    if mixed and _entropy(token) >= 3:
        return "a long random hexadecimal string (a key or token)"
    return None


def _random_base64(token: str) -> str | None:
    cases = any(c.islower() for c in token) and any(c.isupper() for c in token)
    digits = sum(c.isdigit() for c in token)
    if cases and digits >= 2 and _entropy(token) >= 4.2:
        return "a long random base64 string (a key or token)"
    return None


def _entropy(token: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


def _comment_start(line: str) -> int:
    """Index where a YAML comment starts (a # at the start or after a space), or the length."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in ("'", '"'):
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return index
    return len(line)
