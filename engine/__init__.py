"""riskctl's engine: policy models, loader, expressions, stage contexts, gate and decisions.

Typical use::

    from riskctl import Gate, load_bundle

    gate = Gate(load_bundle("policies/"))
    decision = gate.evaluate("pre_trade", context)  # a dict or a PreTradeContext
    if not decision.allowed:
        ...
"""

from riskctl.bundle import PolicyBundle, load_bundle
from riskctl.context import (
    CONTEXTS,
    STAGES,
    FillContext,
    IngestContext,
    MonitorContext,
    OrderSendContext,
    PreTradeContext,
    SignalContext,
)
from riskctl.decision import Decision, Outcome, RuleHit, combine
from riskctl.errors import (
    Diagnostic,
    Location,
    PolicyLoadError,
    RiskctlError,
    Severity,
)
from riskctl.gate import Gate
from riskctl.lint import LintReport, lint_paths

__all__ = [
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
