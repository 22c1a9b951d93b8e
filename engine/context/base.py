"""Context building blocks: the base model, derived fields, and what every stage carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Bounds far beyond any real market, so every derived value stays exact in 50 digits.
LIMIT = Decimal("1e15")
TINY = Decimal("1e-18")  # the smallest positive price or size any venue quotes
# Digits a context number may carry: at most 32 decimal places. With |x| <= LIMIT that is
# at most 48 significant digits, and a sum or difference of two (a position after a fill,
# P&L) at most 49, so the engine's 50 digits compute every sum exactly and "a value over
# a limit fails" holds. A 50-place position such as 20.000...0001 would lose its last
# digit in a sum and pass a limit it exceeds, so such numbers are refused. 32 places keep
# every float a bot may send down to 1e-15 (17 significant digits, binary noise included).
# Only decimal_places is set: pydantic couples max_digits and decimal_places into a limit
# on whole digits, and LIMIT already bounds those.
MAX_PLACES = 32
_EXACT: dict[str, Any] = {"allow_inf_nan": False, "decimal_places": MAX_PLACES}
Num = Annotated[Decimal, Field(ge=-LIMIT, le=LIMIT, **_EXACT)]
Amount = Annotated[Decimal, Field(ge=0, le=LIMIT, **_EXACT)]  # never negative
Positive = Annotated[Decimal, Field(ge=TINY, le=LIMIT, **_EXACT)]
Percent = Annotated[Decimal, Field(ge=0, le=100, **_EXACT)]
Price = Positive
Qty = Positive
# Milliseconds and counts: whole numbers (true and "120" are refused), up to year ~2286 in ms.
Ms = Annotated[int, Field(ge=0, le=10**16, strict=True)]
Side = Literal["buy", "sell"]
Name = Annotated[str, Field(min_length=1, max_length=100)]


def derived(description: str, *, always: bool = False) -> Any:
    """A read-only field computed by riskctl; omitted from dumps and refused as input.

    ``always`` marks a field the stage always computes, so expressions may use it without
    a null guard (its annotation stays Optional only because it starts unset).
    """
    extra: dict[str, Any] = {"readOnly": True}
    if always:
        extra["alwaysSet"] = True
    return Field(
        default=None,
        exclude=True,
        description=f"Derived, read-only: {description}",
        json_schema_extra=extra,
    )


class ContextModel(BaseModel):
    """Base of every context model: strict keys, no NaN."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DerivedModel(ContextModel):
    """A context model with derived fields: they are refused as input and set by riskctl.

    Only models that have derived fields pay for the check (validation is per order).
    """

    DERIVED: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.DERIVED = frozenset(
            name
            for name, info in cls.model_fields.items()
            if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("readOnly")
        )

    @model_validator(mode="before")
    @classmethod
    def _refuse_derived(cls, data: Any) -> Any:
        # isdisjoint first: this runs for every nested model of every order.
        if isinstance(data, dict) and not cls.DERIVED.isdisjoint(data):
            given = sorted(k for k in cls.DERIVED if k in data)
            if given:
                raise ValueError(
                    f"{', '.join(given)} is derived by riskctl; remove it from the input"
                )
        return data

    def _set(self, **values: Any) -> None:
        # Derived fields are plain entries of the frozen model's __dict__ (no descriptors).
        self.__dict__.update(values)


class State(ContextModel):
    """Trading state as the state store sees it."""

    trading_state: Literal["ACTIVE", "REDUCING", "HALTED"] = Field(
        default="ACTIVE",
        description="ACTIVE trades; REDUCING allows only exits; HALTED allows none.",
    )
    kill_switch: bool = Field(
        default=False, description="True when an operator pulled the kill switch."
    )
    paused: bool = Field(
        default=False,
        description=(
            "True when new orders on this venue and symbol are paused: an open circuit breaker"
            " with pause_symbol or cancel_all in its scope. Exits pass. Set by `riskctl run`."
        ),
    )
    block_increasing: bool = Field(
        default=False,
        description=(
            "True when the inventory band the position is in blocks orders that grow"
            " |position|; orders that shrink it pass. Set by `riskctl run`."
        ),
    )


class StageContext(ContextModel):
    """Fields every stage carries."""

    STAGE: ClassVar[str] = ""
    # The field paths scope_key() reads: a program built for one (venue, symbol) knows them.
    SCOPE_FIELDS: ClassVar[tuple[str, str]] = ("", "")
    now_ms: Ms = Field(description="Evaluation time, epoch milliseconds, from the engine's clock.")
    state: State = Field(default_factory=State, description="Trading state and kill switch.")

    def scope_key(self) -> tuple[str, str]:
        """(venue, symbol) that scoped rules and limits select on."""
        raise NotImplementedError

    def is_cancel(self) -> bool:
        """True for a cancel request, which no rule may block."""
        return False

    @classmethod
    def cancel_in(cls, data: Mapping[str, Any]) -> bool:
        """True when raw, perhaps invalid, context data is a cancel request."""
        return False

    @classmethod
    def with_defaults(
        cls, data: Mapping[str, Any], instrument_of: InstrumentLookup
    ) -> Mapping[str, Any]:
        """Raw context data with defaults from the bundle filled in; most stages have none."""
        return data


InstrumentLookup = Callable[[str, str], Any]


def section_field(data: Mapping[str, Any], section: str, name: str) -> Any:
    """data[section][name] of raw (unvalidated, perhaps not even a mapping) context data."""
    if not isinstance(data, Mapping):
        return None
    part = data.get(section)
    return part.get(name) if isinstance(part, Mapping) else None


def fill_instrument(
    data: Mapping[str, Any], section: str, instrument_of: InstrumentLookup
) -> Mapping[str, Any]:
    """Add the bundle's instrument for data[section]'s venue and symbol, unless one is given."""
    if "instrument" in data:
        return data
    part = data.get(section)
    if not isinstance(part, Mapping):
        return data
    venue, symbol = part.get("venue"), part.get("symbol")
    if not isinstance(venue, str) or not isinstance(symbol, str):
        return data
    found = instrument_of(venue, symbol)
    return data if found is None else {**data, "instrument": found}
