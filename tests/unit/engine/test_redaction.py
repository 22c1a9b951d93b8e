"""One redaction for every message path: what the hygiene check flags is never echoed."""

from __future__ import annotations

import pytest

from riskctl.errors import Diagnostic, Location
from riskctl.secrets import redact, secrets_in_line
from riskctl.yamlio import parse_yaml

AWS = "AKIAIOSFODNN7EXAMPLE"
TOKEN = "Zx9Kq2LmN8pR4sT6vW1yB3cD5eF7gH0j"  # noqa: S105  # a fake token to redact


@pytest.mark.parametrize(
    "line",
    [f"key: {AWS}", f"api_key: {TOKEN}", f"note: {TOKEN}", "password: hunter2"],
)
def test_when_hygiene_flags_a_value_then_redact_blanks_it(line: str) -> None:
    assert list(secrets_in_line(line))
    value = line.split(": ", 1)[1]
    assert value not in redact(line)


def test_when_a_credential_follows_prose_then_redact_blanks_the_value_and_keeps_the_key() -> None:
    assert redact("login failed: password=hunter2 retry") == "login failed: password=*** retry"


def test_when_a_pem_block_is_in_a_message_then_it_is_blanked_whole() -> None:
    text = "x -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- y"
    assert redact(text) == "x *** y"


def test_when_a_digest_is_in_a_message_then_it_stays() -> None:
    text = "bundle sha256:" + "0123456789abcdef" * 4
    assert redact(text) == text


def test_when_a_diagnostic_is_built_with_a_secret_then_message_and_hint_are_redacted() -> None:
    found = Diagnostic("x.y", f"saw '{AWS}'", Location("f"), hint=f"not {AWS}")
    assert AWS not in found.message
    assert found.hint is not None
    assert AWS not in found.hint


def test_when_a_yaml_alias_looks_like_a_secret_then_the_error_does_not_echo_it() -> None:
    _, problems = parse_yaml(f"a: *{AWS}\n", "f.yaml")
    assert problems
    assert all(AWS not in p.format() for p in problems)
