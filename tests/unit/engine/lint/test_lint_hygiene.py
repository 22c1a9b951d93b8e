"""hygiene.secret: credentials found in raw text, located, named by kind, never repeated."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskctl.lint import lint_paths
from riskctl.lint.hygiene import check

HEADER = "apiVersion: riskctl/v1\nkind: ChangeControl\n"

SECRETS = {
    "aws": ("  ci: AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "AWS access key id", 7),
    "api_key": ("  api_key: pd-routing-4f1c", "pd-routing-4f1c", "'api_key'", 12),
    "quoted secret": ('  okx_secret: "s3cr3t value"', "s3cr3t value", "'okx_secret'", 15),
    "token in flow map": ("  {team: a, token: xyz123}", "xyz123", "'token'", 20),
    "passphrase": ("  passphrase: correct-horse", "correct-horse", "'passphrase'", 15),
    "password in a url": ("  url: https://x.example/?u=a&password=hunter2", "hunter2", "", 40),
    "commented out": ("  # password: hunter2", "hunter2", "'password'", 15),
    "hex": (
        "  hook: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "9f86d081884c7d659a2feaa0c55ad015",
        "hexadecimal",
        9,
    ),
    "base64": (
        "  key: tR8x2QmZ7vLp4Kw9NsB3yHc6JdF1gUeA5oVi0Xq",
        "tR8x2QmZ7vLp4Kw9NsB3yHc6JdF1gUeA5oVi0Xq",
        "base64",
        8,
    ),
}


@pytest.mark.parametrize("case", SECRETS, ids=list(SECRETS))
def test_when_a_line_holds_a_secret_then_it_is_found_at_its_column_without_the_value(
    case: str,
) -> None:
    line, secret, kind, column = SECRETS[case]

    found = list(check({"p.yaml": f"{HEADER}{line}\n"}))

    assert [(d.code, d.location.line, d.location.column) for d in found] == [
        ("hygiene.secret", 3, column)
    ]
    assert kind in found[0].message
    assert secret not in found[0].format()
    assert secret not in (found[0].hint or "")


@pytest.mark.parametrize(
    "line",
    [
        "  password: ''",
        "  token: null",
        "  secret_ref: vault/desk-crypto/okx",
        "  max_tokens: 5",
        "  message: the api token: rotate it monthly",
        "  bundle: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        '  runbook: "https://wiki.example/runbooks/daily-loss-escalation-procedure"',
        '  - path: "RiskLimits/btc-eth-mm:spec.scoped[*].max_order_qty"',
        "  note: ThisIsAVeryLongIdentifierWithoutAnyDigitsInIt",
        "  # see commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b for the history",
        "  x: 1  # riskctl: ignore[hygiene.secret] token: rotated test value",
    ],
)
def test_when_a_value_only_resembles_a_secret_then_nothing_is_found(line: str) -> None:
    assert list(check({"p.yaml": f"{HEADER}{line}\n"})) == []


def test_a_pem_block_is_reported_once_at_its_begin_line() -> None:
    text = (
        f"{HEADER}description: |\n  -----BEGIN RSA PRIVATE KEY-----\n"
        "  MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n"
        "  7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFc\n"
        "  -----END RSA PRIVATE KEY-----\nafter: AKIAIOSFODNN7EXAMPLE\n"
    )

    found = [(d.location.line, d.location.column, d.message) for d in check({"p.yaml": text})]

    assert [(line, column) for line, column, _ in found] == [(4, 3), (8, 8)]
    assert "PEM private key" in found[0][2]


def test_when_a_file_does_not_load_its_secrets_are_still_found(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: riskctl/v1\nkind: Nope\napi_key: hunter2-abc\n")

    report = lint_paths([path])

    assert {d.code for d in report.diagnostics} == {"policy.unknown-kind", "hygiene.secret"}
    assert all("hunter2-abc" not in d.format() for d in report.diagnostics)


def test_a_secret_can_be_waived_on_its_line_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "cc.yaml"
    path.write_text(
        "apiVersion: riskctl/v1\nkind: ChangeControl\nmetadata:\n  name: cc\n  version: 1\n"
        "  owner: desk\n  labels:\n"
        "    token: public-demo-value  # riskctl: ignore[hygiene.secret] a public sandbox token\n"
        "spec:\n  max_changes_per_day: 1\n  allow:\n    - path: 'RiskLimits/x:spec.defaults.a'\n"
    )

    report = lint_paths([path])

    assert report.diagnostics == ()
    assert report.waived == 1
