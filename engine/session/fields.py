"""Field types of the session format: exact decimals, epoch milliseconds, names.

Every price, quantity and amount is a :class:`~decimal.Decimal`. A JSON number is read
through its text and a decimal is written as a JSON string, so ``0.1`` stays ``0.1``
through any number of round trips. A binary float is refused at the boundary: it may
already have lost the digits the venue sent.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from riskctl.fields import SYMBOL_PATTERN, VENUE_PATTERN

__all__ = [
    "Amount",
    "Asset",
    "Ms",
    "Name",
    "Price",
    "Qty",
    "SessionModel",
    "Side",
    "Signed",
    "Size",
    "Symbol",
    "Venue",
]

# The bounds of riskctl's contexts (riskctl.context.base): a session value always fits a
# context, so the replay never refuses an event the reader accepted.
LIMIT = Decimal("1e15")
MAX_PLACES = 32
_EXACT: dict[str, Any] = {"allow_inf_nan": False, "decimal_places": MAX_PLACES}
# Strict models: from Python a Decimal and nothing else (a float is refused); from JSON a
# decimal string or a number read through its text (riskctl.session.codec).
Price = Annotated[Decimal, Field(gt=0, le=LIMIT, **_EXACT, examples=[Decimal("60000.01")])]
Qty = Annotated[Decimal, Field(gt=0, le=LIMIT, **_EXACT)]
Size = Annotated[Decimal, Field(ge=0, le=LIMIT, **_EXACT)]
Amount = Size
Signed = Annotated[Decimal, Field(ge=-LIMIT, le=LIMIT, **_EXACT)]
# Milliseconds since the epoch (or a duration): a whole number; true and "120" are refused.
Ms = Annotated[int, Field(ge=0, le=10**16, strict=True, examples=[1763647200000])]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Venue = Annotated[str, Field(pattern=VENUE_PATTERN, examples=["binance", "okx"])]
Symbol = Annotated[str, Field(pattern=SYMBOL_PATTERN, examples=["BTC/USDT", "BTC/USDT:USDT"])]
Asset = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$", examples=["USDT", "BTC"])]
Side = Literal["buy", "sell"]


class SessionModel(BaseModel):
    """Base of every session line: strict types, unknown keys refused, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
