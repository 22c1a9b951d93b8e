"""Constrained types shared by every policy kind.

Money, prices and quantities are :class:`~decimal.Decimal` with meaningful bounds, so a
limit is compared exactly and a typo like ``-1e9`` or ``1e12`` never validates. Units
live in field names (``_bps``, ``_ms``, ``_pct``) because the types do not carry them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "FORMATS",
    "MAX_MONEY",
    "MAX_QTY",
    "STAGES",
    "TEN_THOUSAND",
    "Bps",
    "Count",
    "DurationMs",
    "Expression",
    "Flag",
    "Identifier",
    "Money",
    "Percent",
    "Quantity",
    "Ratio",
    "RuleAction",
    "Scope",
    "Severity",
    "Stage",
    "StrictModel",
    "Symbol",
    "VenueId",
]


# Upper bounds large enough for any real desk, small enough to catch a slipped exponent.
MAX_MONEY = Decimal("10000000000")  # 1e10 in the quote currency
MAX_QTY = Decimal("100000000000")  # 1e11 units of the base asset (micro-priced tokens)
DAY_MS = 86_400_000

IDENTIFIER_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
VENUE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
SYMBOL_PATTERN = (
    r"^[A-Z0-9]{1,20}/[A-Z0-9]{1,20}(:[A-Z0-9]{1,20}(-[0-9]{6}(-[0-9.]{1,20}-[CP])?)?)?$"
)
# What a format means, in the words a policy author needs when a value does not match it.
FORMATS: dict[str, str] = {
    IDENTIFIER_PATTERN: "lower-case letters, digits, '.', '_' and '-', like btc-spot",
    VENUE_PATTERN: "a lower-case ccxt venue id, like binance or okx",
    SYMBOL_PATTERN: "a unified ccxt symbol in capitals, like BTC/USDT or BTC/USDT:USDT",
}
TEN_THOUSAND = Decimal(10_000)  # basis points in one


class StrictModel(BaseModel):
    """Base of every policy model: unknown keys are errors, values are never NaN or infinite."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        use_attribute_docstrings=False,
        validate_default=False,
    )


Money = Annotated[
    Decimal,
    Field(gt=0, le=MAX_MONEY, allow_inf_nan=False, examples=[Decimal("250000")]),
]
"""An amount in the quote currency, > 0 and <= 1e10."""

Quantity = Annotated[Decimal, Field(gt=0, le=MAX_QTY, allow_inf_nan=False)]
"""An amount of the base asset, > 0 and <= 1e11."""

Bps = Annotated[Decimal, Field(gt=0, le=10_000, allow_inf_nan=False, examples=[Decimal("50")])]
"""Basis points, > 0 and <= 10,000 (100%)."""

Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]
"""A percentage, > 0 and <= 100."""

Ratio = Annotated[Decimal, Field(ge=0, le=1, allow_inf_nan=False)]
"""A fraction between 0 and 1 inclusive."""

DurationMs = Annotated[int, Field(gt=0, le=7 * DAY_MS, strict=True, examples=[5000])]
"""A duration in milliseconds, > 0 and at most 7 days; a whole number (true is not 1)."""

Count = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
"""A whole count, 1..1,000,000; true and 2.0 are refused."""

Identifier = Annotated[
    str,
    Field(
        pattern=IDENTIFIER_PATTERN,
        min_length=1,
        max_length=63,
        examples=["btc-spot"],
    ),
]
"""Lower-case letters, digits, '.', '_' and '-'; 1..63 characters."""

VenueId = Annotated[
    str,
    Field(pattern=VENUE_PATTERN, examples=["binance", "okx"]),
]
"""A venue id as ccxt spells it: lower-case, e.g. binance, okx, kraken."""

Symbol = Annotated[
    str,
    Field(
        pattern=SYMBOL_PATTERN,
        examples=[
            "BTC/USDT",
            "BTC/USDT:USDT",
            "BTC/USDT:USDT-250328",
            "BTC/USD:BTC-250328-60000-C",
        ],
    ),
]
"""A unified ccxt symbol: BASE/QUOTE (spot), BASE/QUOTE:SETTLE (swap),
BASE/QUOTE:SETTLE-YYMMDD (future), BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P (option)."""

Expression = Annotated[str, Field(min_length=1, max_length=2000, examples=["order.qty > 5"])]
"""A rule expression over the stage's context; compiled and checked when the bundle loads."""

Flag = Annotated[bool, Field(strict=True)]
"""true or false, and nothing else: YAML 1.2 keeps yes/on/1 as other types, refused here."""

Stage = Literal["ingest", "signal", "pre_trade", "order_send", "fill", "monitor"]
STAGES: tuple[str, ...] = get_args(Stage)  # pipeline order
Severity = Literal["info", "warning", "error", "critical"]
RuleAction = Literal["reject", "reduce_only", "halt", "cancel_all", "flatten", "alert"]


class Scope(StrictModel):
    """Where something applies. An omitted selector matches every venue or symbol.

    Specificity: venue and symbol > symbol > venue > everything.
    """

    venue: VenueId | None = Field(
        default=None, description="Venue id the selector matches; omit to match every venue."
    )
    symbol: Symbol | None = Field(
        default=None, description="Unified symbol the selector matches; omit for every symbol."
    )

    def specificity(self) -> int:
        return (2 if self.symbol else 0) + (1 if self.venue else 0)

    def matches(self, venue: str, symbol: str) -> bool:
        return (self.venue is None or self.venue == venue) and (
            self.symbol is None or self.symbol == symbol
        )

    def label(self) -> str:
        return f"{self.venue or '*'}:{self.symbol or '*'}"
