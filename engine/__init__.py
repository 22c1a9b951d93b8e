"""riskctl's engine: policy models, loader, expressions, stage contexts, gate and decisions.

Typical use::

    from engine import Gate, load_bundle

    gate = Gate(load_bundle("policies/"))
    decision = gate.evaluate("pre_trade", context)  # a dict or a PreTradeContext
    if not decision.allowed:
        ...
"""

from engine.bundle import PolicyBundle, load_bundle
from engine.context import (
    CONTEXTS,
    STAGES,
    FillContext,
    IngestContext,
    MonitorContext,
    OrderSendContext,
    PreTradeContext,
    SignalContext,
)
from engine.decision import Decision, Outcome, RuleHit, combine
from engine.errors import (
    Diagnostic,
    Location,
    PolicyLoadError,
    RiskctlError,
    Severity,
)
from engine.gate import Gate
from engine.lint import LintReport, lint_paths

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
