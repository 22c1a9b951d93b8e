"""Properties of the RiskLimits typed limits: inside the bounds loads exactly, outside is refused.

Documents are built in memory and fed through the real loader (``load_file``) with the file
read replaced by :func:`riskctl.yamlio.parse_yaml`, so each example costs one parse and one
validation. Every refusal must carry the right code and point at the value in the text.

Decimals here have at most 15 significant digits: a YAML float is read through a binary
float, which keeps 15 digits exactly. What happens beyond that is pinned down by
``tests/unit/engine/test_validation.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st

from riskctl import loader
from riskctl.errors import Diagnostic
from riskctl.kinds import RiskLimits
from riskctl.yamlio import parse_yaml

MAX_MONEY = Decimal("1e10")
MAX_QTY = Decimal("1e11")
MAX_BPS = Decimal("10000")
SIG_DIGITS = 15

# limit -> inclusive upper bound; every Decimal limit must be > 0
DECIMAL_LIMITS: dict[str, Decimal] = {
    "max_order_qty": MAX_QTY,
    "max_position_qty": MAX_QTY,
    "max_order_notional": MAX_MONEY,
    "max_position_notional": MAX_MONEY,
    "max_gross_exposure": MAX_MONEY,
    "max_daily_loss": MAX_MONEY,
    "max_drawdown": MAX_MONEY,
    "price_collar_bps": MAX_BPS,
}
# limit -> inclusive (lower, upper) bounds of a whole number
INT_LIMITS: dict[str, tuple[int, int]] = {
    "max_open_orders": (1, 1_000_000),
    "max_orders_per_second": (1, 1_000_000),
    "stale_market_data_ms": (1, 7 * 86_400_000),
    "stale_balance_ms": (1, 7 * 86_400_000),
}

HEADER = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata:
  name: generated
  version: 1
  owner: property-test
spec:
  environment: paper
  venues:
    - venue: binance
      account: acct-1
      symbols: [BTC/USDT]
"""
PLACEMENTS = {
    # where the limit is written -> (YAML before the limit line, indent, path to the limit set)
    "defaults": ("  defaults:\n", "    ", ("spec", "defaults")),
    "scoped": ("  scoped:\n    - scope: {symbol: BTC/USDT}\n", "      ", ("spec", "scoped", 0)),
}


def document(field: str, written: str, placement: str) -> tuple[str, int, int]:
    """YAML text with ``field: written`` and the 1-based line and column of the value."""
    before, indent, _ = PLACEMENTS[placement]
    prefix = HEADER + before
    line = f"{indent}{field}: "
    text = prefix + line + written + "   # generated\n"
    return text, prefix.count("\n") + 1, len(line) + 1


@contextmanager
def text_as_file(text: str) -> Iterator[None]:
    with mock.patch.object(
        loader, "read_yaml", lambda path, display=None: parse_yaml(text, str(path))
    ):
        yield


def load(text: str) -> tuple[RiskLimits | None, list[Diagnostic]]:
    with text_as_file(text):
        policy, problems = loader.load_file(Path("generated.yaml"))
    if policy is None:
        return None, problems
    assert isinstance(policy.document, RiskLimits)
    return policy.document, problems


def limit_of(doc: RiskLimits, placement: str, field: str) -> object:
    limits = doc.spec.defaults if placement == "defaults" else doc.spec.scoped[0]
    return getattr(limits, field)


def assert_refused_at(
    problems: list[Diagnostic],
    at: tuple[int, int],
    codes: set[str],
    *,
    placement: str,
    field: str,
) -> None:
    assert len(problems) == 1, problems
    (problem,) = problems
    assert problem.code in codes
    assert (problem.location.line, problem.location.column) == at
    path = "/".join(str(p) for p in PLACEMENTS[placement][2])
    assert problem.location.pointer == f"/{path}/{field}"


def text_of(value: Decimal) -> str:
    return format(value, "f")


@st.composite
def decimals_between(draw: st.DrawFn, low: Decimal, high: Decimal) -> Decimal:
    """A Decimal in [low, high] with at most SIG_DIGITS significant digits, any scale 0..6."""
    places = draw(st.integers(0, 6))
    scale = Decimal(10) ** places
    lo, hi = int((low * scale).to_integral_value(rounding="ROUND_CEILING")), int(high * scale)
    lo = max(lo, -(10**SIG_DIGITS) + 1)
    hi = min(hi, 10**SIG_DIGITS - 1)
    if lo > hi:  # this scale cannot express the range in 15 digits; use whole numbers
        scale = Decimal(1)
        lo, hi = int(low.to_integral_value(rounding="ROUND_CEILING")), int(high)
    return Decimal(draw(st.integers(lo, hi))) / scale


placements = st.sampled_from(sorted(PLACEMENTS))
decimal_fields = st.sampled_from(sorted(DECIMAL_LIMITS))
int_fields = st.sampled_from(sorted(INT_LIMITS))


# -- inside the bounds -------------------------------------------------------------------------


@given(data=st.data(), field=decimal_fields, placement=placements)
def test_when_a_decimal_limit_is_inside_its_bounds_then_it_loads_as_the_exact_value(
    data: st.DataObject, field: str, placement: str
) -> None:
    upper = DECIMAL_LIMITS[field]
    value = data.draw(
        st.one_of(st.just(upper), decimals_between(Decimal("0.000001"), upper)), label="value"
    )
    text, _, _ = document(field, text_of(value), placement)

    doc, problems = load(text)

    assert problems == []
    assert doc is not None
    assert limit_of(doc, placement, field) == value


@given(data=st.data(), field=int_fields, placement=placements)
def test_when_a_count_or_duration_is_inside_its_bounds_then_it_loads(
    data: st.DataObject, field: str, placement: str
) -> None:
    low, high = INT_LIMITS[field]
    value = data.draw(st.one_of(st.sampled_from([low, high]), st.integers(low, high)))
    text, _, _ = document(field, str(value), placement)

    doc, problems = load(text)

    assert problems == []
    assert doc is not None
    assert limit_of(doc, placement, field) == value


# -- outside the bounds ------------------------------------------------------------------------


@given(data=st.data(), field=decimal_fields, placement=placements)
def test_when_a_decimal_limit_is_zero_or_negative_then_out_of_bounds_at_the_value(
    data: st.DataObject, field: str, placement: str
) -> None:
    value = data.draw(
        st.one_of(st.just(Decimal(0)), decimals_between(Decimal("-1e10"), Decimal(0)))
    )
    text, line, column = document(field, text_of(value), placement)

    doc, problems = load(text)

    assert doc is None
    assert_refused_at(
        problems, (line, column), {"policy.out-of-bounds"}, placement=placement, field=field
    )


@given(data=st.data(), field=decimal_fields, placement=placements)
def test_when_a_decimal_limit_is_over_its_cap_then_out_of_bounds_at_the_value(
    data: st.DataObject, field: str, placement: str
) -> None:
    upper = DECIMAL_LIMITS[field]
    smallest_step = Decimal(10) ** (upper.adjusted() - SIG_DIGITS + 1)
    value = data.draw(
        st.one_of(
            st.just(upper + smallest_step), decimals_between(upper + smallest_step, upper * 1000)
        )
    )
    text, line, column = document(field, text_of(value), placement)

    doc, problems = load(text)

    assert doc is None
    assert_refused_at(
        problems, (line, column), {"policy.out-of-bounds"}, placement=placement, field=field
    )
    assert problems[0].message.endswith(f"it must be less than or equal to {upper:f}")


@given(data=st.data(), field=int_fields, placement=placements)
def test_when_a_count_or_duration_is_outside_its_bounds_then_out_of_bounds_at_the_value(
    data: st.DataObject, field: str, placement: str
) -> None:
    low, high = INT_LIMITS[field]
    value = data.draw(
        st.one_of(
            st.sampled_from([low - 1, high + 1]),
            st.integers(max_value=low - 1),
            st.integers(min_value=high + 1, max_value=high * 1000),
        )
    )
    text, line, column = document(field, str(value), placement)

    doc, problems = load(text)

    assert doc is None
    assert_refused_at(
        problems, (line, column), {"policy.out-of-bounds"}, placement=placement, field=field
    )


@given(
    field=st.sampled_from(sorted(DECIMAL_LIMITS) + sorted(INT_LIMITS)),
    placement=placements,
    written=st.sampled_from([".nan", ".NaN", ".NAN", ".inf", ".Inf", "+.inf", "-.inf", "-.INF"]),
)
def test_when_a_limit_is_nan_or_infinite_then_not_finite_at_the_value(
    field: str, placement: str, written: str
) -> None:
    text, line, column = document(field, written, placement)

    doc, problems = load(text)

    assert doc is None
    assert_refused_at(
        problems,
        (line, column),
        {"policy.not-finite", "policy.out-of-bounds"},
        placement=placement,
        field=field,
    )
    if written.lstrip("+").lower() in (".nan", ".inf"):
        assert problems[0].code == "policy.not-finite"


# -- exact decimals ----------------------------------------------------------------------------


@given(
    value=decimals_between(Decimal("0.000001"), MAX_QTY),
    trailing_zeros=st.integers(0, 3),
    placement=placements,
)
@example(value=Decimal("0.1"), trailing_zeros=0, placement="defaults")
@example(value=Decimal("172.06"), trailing_zeros=2, placement="scoped")
@example(value=Decimal("0.3"), trailing_zeros=0, placement="defaults")
@example(value=Decimal("99999999999.9999"), trailing_zeros=0, placement="defaults")
def test_the_decimal_written_in_yaml_round_trips_to_an_equal_decimal(
    value: Decimal, trailing_zeros: int, placement: str
) -> None:
    written = text_of(value)
    if trailing_zeros:
        written += ("" if "." in written else ".") + "0" * trailing_zeros
    text, _, _ = document("max_order_qty", written, placement)

    doc, problems = load(text)

    assert problems == []
    assert doc is not None
    loaded = limit_of(doc, placement, "max_order_qty")
    assert isinstance(loaded, Decimal)
    assert loaded == Decimal(written)
