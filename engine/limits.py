"""Typed limits resolved per (venue, symbol), and the built-in rules that enforce them.

Resolution is by scope specificity, limit by limit; the result is a list of RuleSpecs
with the limit values inlined as exact constants, built once per scope and cached by the
rule set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from riskctl.builtins import (
    BALANCE_RULES,
    BUILTIN_STATE_RULES,
    CLOCK_SKEW,
    CONFORMANCE_RULES,
    DEFAULT_CLOCK_SKEW_MS,
    LIMIT_RULES,
    ORDER_SANITY_RULES,
    REDUCE_ONLY_OPENING,
    SEND_RULES,
    STALE_BALANCE_ACTIONS,
    UNKNOWN_INSTRUMENT,
    BuiltinRule,
)
from riskctl.expr import CheckedExpression, check_expression
from riskctl.fields import TEN_THOUSAND
from riskctl.kinds import RiskLimits
from riskctl.kinds.risk_limits import LIMIT_FIELDS, Conformance, LimitSet
from riskctl.rulespec import RuleSpec
from riskctl.scope_index import scope_index
from riskctl.symbols import Type

__all__ = ["builtin_specs", "in_universe", "resolve_limits", "send_specs"]

BUILTIN = "riskctl/builtin"

# Which config switches each modifiable rule's "modify" on.


def resolve_limits(document: RiskLimits, venue: str, symbol: str) -> dict[str, tuple[Any, str]]:
    """Limit name -> (value, scope label) that applies to (venue, symbol) in one document.

    The most specific scope that sets a limit wins (venue+symbol > symbol > venue > defaults),
    limit by limit, so a symbol override of one limit still inherits the others. Entries of
    equal specificity apply in file order (lint flags such duplicates).
    """
    layers: list[tuple[int, str, LimitSet]] = [(-1, "*:*", document.spec.defaults)]
    layers += [
        (s.scope.specificity(), s.scope.label(), s)
        for _, s in scope_index(document).matching(venue, symbol)
    ]
    values: dict[str, tuple[Any, str]] = {}
    for _, label, limits in layers:
        for name in LIMIT_FIELDS:
            value = getattr(limits, name)
            if value is not None:
                values[name] = (value, label)
    return values


def in_universe(documents: Iterable[RiskLimits], venue: str, symbol: str) -> bool:
    """True when some RiskLimits document lists ``symbol`` for a ``venue`` account."""
    return any((venue, symbol) in scope_index(document).pair_set for document in documents)


def send_specs(documents: tuple[RiskLimits, ...], venue: str, symbol: str) -> list[RuleSpec]:
    """Built-in order_send rules: the kill switch, HALTED, and the universe."""
    specs = [_spec(rule, code="state", stage="order_send") for rule in SEND_RULES]
    if not in_universe(documents, venue, symbol):
        specs.append(_spec(UNKNOWN_INSTRUMENT, code="limit", stage="order_send"))
    return specs


def builtin_specs(documents: tuple[RiskLimits, ...], venue: str, symbol: str) -> list[RuleSpec]:
    """Every built-in pre_trade rule for one (venue, symbol), limits inlined."""
    specs = [_spec(rule, code="state") for rule in BUILTIN_STATE_RULES]
    specs += [_spec(rule, code="order") for rule in ORDER_SANITY_RULES]
    if not in_universe(documents, venue, symbol):
        return [*specs, _spec(UNKNOWN_INSTRUMENT, code="limit")]
    for document in documents:
        resolved = resolve_limits(document, venue, symbol)
        settings = {name: value for name, (value, _) in resolved.items()}
        specs += _always_on_specs(document, resolved, specs)
        for name, (value, label) in resolved.items():
            if name in LIMIT_RULES:  # the rest are settings read below
                specs.append(_limit_spec(LIMIT_RULES[name], document, value, label, settings))
        conformance = settings.get("conformance")
        if isinstance(conformance, Conformance):
            specs += _conformance_specs(document, conformance)
        if settings.get("check_balance"):
            fee = settings.get("fee_reserve_bps") or Decimal(0)
            factor = format(1 + fee / TEN_THOUSAND, "f")
            specs += [
                _spec(rule, code="balance", policy=document.ref, fee_factor=factor)
                for rule in BALANCE_RULES
            ]
    return specs


def _limit_spec(
    rule: BuiltinRule, document: RiskLimits, value: Any, label: str, settings: dict[str, Any]
) -> RuleSpec:
    action, exits_exempt = rule.action, rule.exits_exempt
    if rule.name == "stale_balance_ms":
        action = STALE_BALANCE_ACTIONS[settings.get("on_stale_balance") or "reduce"]
        exits_exempt = action != "halt"
    return RuleSpec(
        rule_id=rule.name,
        policy=document.ref,
        code=f"limit.{rule.name}",
        stage="pre_trade",
        expr=_checked(rule.when.format(v=_literal(value)), "pre_trade"),
        action=action,
        severity="error" if action != "alert" else "warning",
        message=rule.message,
        exits_exempt=exits_exempt,
        limit=value,
        scope_label=label,
        modify=rule.modify if settings.get("clip_order_qty") else None,  # max qty/position
    )


def _always_on_specs(
    document: RiskLimits, resolved: dict[str, tuple[Any, str]], specs: list[RuleSpec]
) -> list[RuleSpec]:
    """Checks on unless the policy changes them: clock skew, reduce_only that would open.

    Once per bound (two documents at the default report one hit, not two).
    """
    found: list[RuleSpec] = []
    skew, label = resolved.get("max_clock_skew_ms", (DEFAULT_CLOCK_SKEW_MS, "default"))
    if not any(s.rule_id == CLOCK_SKEW.name and s.limit == skew for s in specs):
        spec = _spec(CLOCK_SKEW, code="market", policy=document.ref, v=str(skew))
        found.append(replace(spec, limit=skew, scope_label=label))
    check_reduce_only = resolved.get("check_reduce_only", (True, ""))[0]
    if check_reduce_only and not any(s.rule_id == REDUCE_ONLY_OPENING.name for s in specs):
        found.append(_spec(REDUCE_ONLY_OPENING, code="order", policy=document.ref))
    return found


def _conformance_specs(document: RiskLimits, conformance: Conformance) -> list[RuleSpec]:
    specs = []
    for rule in CONFORMANCE_RULES:
        if rule.name == "instrument_unknown" and not conformance.require_instrument:
            continue
        # A fix without a setting of its own (float noise) always applies.
        wants_modify = (
            getattr(conformance, rule.name, "modify" if rule.modify else "reject") == "modify"
        )
        spec = _spec(rule, code="instrument", policy=document.ref)
        if wants_modify and rule.modify:
            spec = replace(spec, modify=rule.modify)
        specs.append(spec)
    return specs


def _spec(
    rule: BuiltinRule,
    *,
    code: str,
    policy: str = BUILTIN,
    stage: str = "pre_trade",
    **params: str,
) -> RuleSpec:
    return RuleSpec(
        rule_id=rule.name,
        policy=policy,
        code=f"{code}.{rule.name}",
        stage=stage,
        expr=_checked(rule.when.format(**params) if params else rule.when, stage),
        action=rule.action,
        severity="error",
        message=rule.message,
        exits_exempt=rule.exits_exempt,
    )


def _literal(value: Any) -> str:
    return str(value) if isinstance(value, int) else format(value, "f")


@lru_cache(maxsize=4096)  # the same templates recur for every (venue, symbol)
def _checked(text: str, stage: str) -> CheckedExpression:
    checked, problem = check_expression(text, stage, expect=Type.BOOL)
    if checked is None:  # a built-in template is wrong: a bug in riskctl, not in a policy
        raise AssertionError(f"built-in rule {text!r} does not check: {problem}")
    return checked
