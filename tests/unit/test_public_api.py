"""Lock the public API: adding or removing an export is a deliberate, reviewed change."""

from __future__ import annotations

import riskctl

EXPECTED = [
    "CONTEXTS",
    "STAGES",
    "Decision",
    "Diagnostic",
    "FillContext",
    "Gate",
    "IngestContext",
    "LintReport",
    "Location",
    "MonitorContext",
    "OrderSendContext",
    "Outcome",
    "PolicyBundle",
    "PolicyLoadError",
    "PreTradeContext",
    "RiskctlError",
    "RuleHit",
    "Severity",
    "SignalContext",
    "combine",
    "lint_paths",
    "load_bundle",
]


def test_engine_exports_exactly_the_documented_names() -> None:
    assert riskctl.__all__ == EXPECTED


def test_every_export_resolves() -> None:
    for name in riskctl.__all__:
        assert getattr(riskctl, name) is not None


def test_the_runtime_exports_the_gate_its_steps_and_group_commit() -> None:
    import riskctl.runtime  # noqa: PLC0415
    from riskctl.runtime import Batch  # noqa: PLC0415

    assert riskctl.runtime.__all__ == ["Batch", "StatefulGate", "Step", "describe"]
    assert riskctl.runtime.StatefulGate.batch.__annotations__["return"] in ("Batch", Batch)


def test_change_control_exports_the_verbs_of_the_cli_and_their_results() -> None:
    import riskctl.change  # noqa: PLC0415

    assert riskctl.change.__all__ == [
        "ApplyResult",
        "ChainProblem",
        "Direction",
        "Expired",
        "ExpiryReport",
        "History",
        "Plan",
        "Proposal",
        "ProposedChange",
        "Refusal",
        "apply",
        "expire_due",
        "history",
        "propose",
        "rollback",
        "tool_schema",
    ]
    assert riskctl.change.tool_schema()["name"] == "propose_risk_change"
