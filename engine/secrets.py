"""What a secret looks like: the detectors behind lint's hygiene check and message redaction.

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

__all__ = ["PEM_BEGIN", "PEM_END", "secret_kind", "secrets_in_line"]

_AWS = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_KEYED = re.compile(
    r"""(?ix)
    (?:^[ \t]*(?:-[ \t]+)?|[{,?&\#][ \t]*)      # where a key starts: a line, a flow map, a query
    ["']?
    (?P<key>[a-z0-9_.-]*?(?:api[_-]?key|secret|password|passwd|token|passphrase))
    ["']?\s*[:=][ \t]*
    (?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,}\#]+)
    """
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
    """(1-based column, kind of secret) of each secret-looking value on one line."""
    spans: list[range] = []  # what was reported, so one value is reported once

    def fresh(start: int, end: int) -> bool:
        if any(start in span or end - 1 in span for span in spans):
            return False
        spans.append(range(start, end))
        return True

    for match in _AWS.finditer(line):
        if fresh(*match.span()):
            yield match.start() + 1, "an AWS access key id"
    for match in _KEYED.finditer(line):
        value = match.group("value")
        if value not in _EMPTY_VALUES and fresh(*match.span("value")):
            yield match.start("value") + 1, f"a credential under the key {match.group('key')!r}"
    code = line[: _comment_start(line)]
    for pattern, judge in ((_HEX_RUN, _random_hex), (_TOKEN, _random_base64)):
        for match in pattern.finditer(code):
            what = judge(match.group())
            if what and not _DIGEST.search(code[: match.start()]) and fresh(*match.span()):
                yield match.start() + 1, what


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
