"""Feed memory: duplicates, gaps, out of order, separate streams, bounded memory, silence."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskctl.bundle import load_bundle
from riskctl.kinds import Instruments, RiskLimits
from riskctl.state.codec import decode, encode
from riskctl.state.feeds import (
    DEFAULT_FEED_CONFIG,
    FeedConfig,
    Observation,
    StreamId,
    StreamState,
    known,
    observe,
    row_key,
    silence,
    stream_of,
    universe_of,
)

POLICIES = Path(__file__).parents[3] / "policies"
CONTIGUOUS = FeedConfig("contiguous", 8)
MONOTONIC = FeedConfig("monotonic", 8)


def feed(
    config: FeedConfig,
    state: StreamState | None,
    seq: int | None,
    *,
    key: str | None = None,
    kind: str = "trade",
    at: int = 0,
    **more: object,
) -> tuple[StreamState, Observation]:
    return observe(
        config,
        state,
        event_type=kind,
        venue="binance",
        symbol="BTC/USDT",
        seq=seq,
        idempotency_key=key,
        ts_ms=at,
        now_ms=at,
        **more,  # type: ignore[arg-type]
    )


def run(
    config: FeedConfig, seqs: list[int | None], keys: list[str | None] | None = None
) -> tuple[StreamState | None, list[Observation]]:
    state: StreamState | None = None
    seen: list[Observation] = []
    for i, seq in enumerate(seqs):
        state, obs = feed(config, state, seq, key=None if keys is None else keys[i], at=i)
        seen.append(obs)
    return state, seen


def test_when_ids_follow_by_one_then_no_gap_and_last_seq_is_the_one_before() -> None:
    _, seen = run(CONTIGUOUS, [10, 11, 12])
    assert [(o.last_seq, o.seq_gap) for o in seen] == [(None, None), (10, 0), (11, 0)]


def test_when_contiguous_ids_skip_then_the_gap_is_the_missing_count() -> None:
    state, seen = run(CONTIGUOUS, [10, 11, 15, 16, 18])
    assert [o.seq_gap for o in seen] == [None, 0, 3, 0, 1]
    assert state is not None
    assert (state.gaps, state.missing, state.last_seq) == (2, 4, 18)


def test_when_monotonic_ids_skip_then_no_gap_is_reported() -> None:
    state, seen = run(MONOTONIC, [100, 107, 250, 251, 9000])
    assert [o.seq_gap for o in seen] == [None, 0, 0, 0, 0]
    assert not any(o.out_of_order for o in seen)
    assert state is not None
    assert (state.gaps, state.missing) == (0, 0)


def test_when_a_monotonic_id_falls_back_then_it_is_out_of_order() -> None:
    state, seen = run(MONOTONIC, [100, 107, 103])
    assert [o.out_of_order for o in seen] == [False, False, True]
    assert state is not None
    assert (state.last_seq, state.out_of_order) == (107, 1)


def test_when_a_trade_arrives_twice_then_the_second_is_a_duplicate_by_its_id() -> None:
    state, seen = run(CONTIGUOUS, [1, 2, 2, 3])
    assert [o.duplicate for o in seen] == [False, False, True, False]
    assert state is not None
    assert (state.duplicates, state.last_seq) == (1, 3)


def test_when_a_late_id_first_arrives_then_it_is_out_of_order_but_not_a_duplicate() -> None:
    _, seen = run(CONTIGUOUS, [1, 3, 2, 2])
    assert [(o.out_of_order, o.duplicate) for o in seen[2:]] == [(True, False), (True, True)]


def test_when_an_id_is_older_than_memory_then_it_is_out_of_order_not_a_duplicate() -> None:
    _, seen = run(FeedConfig("contiguous", 4), [1, 2, 3, 4, 5, 6, 1])
    assert (seen[-1].out_of_order, seen[-1].duplicate) == (True, False)


def test_when_ids_jump_far_then_the_window_restarts_without_growing() -> None:
    state, seen = run(MONOTONIC, [1, 10**15, 10**15])
    assert state is not None
    assert seen[-1].duplicate
    assert state.ids.bit_length() <= MONOTONIC.idempotency_memory


def test_when_unnumbered_events_repeat_a_key_then_the_repeat_is_a_duplicate() -> None:
    state = None
    flags = []
    for key in ["a", "b", "a", None, None]:
        state, obs = feed(CONTIGUOUS, state, None, key=key, kind="order_update")
        flags.append(obs.duplicate)
    assert flags == [False, False, True, False, False]


def test_when_memory_is_zero_then_nothing_is_a_duplicate() -> None:
    _, seen = run(FeedConfig("contiguous", 0), [1, 1, None], [None, None, "k"])
    assert not any(o.duplicate for o in seen)


@pytest.mark.parametrize("memory", [-1, 4097])
def test_when_memory_is_out_of_range_then_the_config_is_refused(memory: int) -> None:
    with pytest.raises(ValueError, match="idempotency_memory"):
        FeedConfig("contiguous", memory)


def test_when_trades_and_book_tops_arrive_then_each_stream_keeps_its_own_numbering() -> None:
    trades, _ = feed(CONTIGUOUS, None, 500, kind="trade")
    book, _ = feed(CONTIGUOUS, None, 9_000_000, kind="ticker")
    trades, t = feed(CONTIGUOUS, trades, 501, kind="trade")
    book, b = feed(CONTIGUOUS, book, 9_000_001, kind="book")
    assert (t.last_seq, t.seq_gap, b.last_seq, b.seq_gap) == (500, 0, 9_000_000, 0)
    assert (trades.stream, book.stream) == ("trades", "book")
    assert [stream_of(k) for k in ("balance", "order_update")] == ["balance", "order_update"]


def test_when_a_stream_was_silent_then_silence_is_measured_by_receive_time_per_stream() -> None:
    states: dict[StreamId, StreamState] = {}
    trades, _ = feed(CONTIGUOUS, None, 1, kind="trade", at=1_000)
    book, _ = observe(
        MONOTONIC,
        None,
        event_type="book",
        venue="binance",
        symbol="BTC/USDT",
        seq=7,
        idempotency_key=None,
        ts_ms=4_000,
        now_ms=4_900,
        receive_ms=4_800,
    )
    states[("binance", "BTC/USDT", "trades")] = trades
    states[("binance", "BTC/USDT", "book")] = book
    assert silence(states, "binance", "BTC/USDT", 5_000) == {"trades": 4_000, "book": 200}
    assert silence(states, "binance", "ETH/USDT", 5_000) == {}


def test_when_a_quote_ends_a_stall_then_the_observation_tells_venue_from_wire() -> None:
    # A 3.9 s stall: the first quote after it is 1 s old, but 3.9 s passed since the last one.
    state, _ = feed(MONOTONIC, None, 1, kind="book", at=10_000)
    _, seen = observe(
        MONOTONIC,
        state,
        event_type="book",
        venue="binance",
        symbol="BTC/USDT",
        seq=2,
        idempotency_key=None,
        ts_ms=12_900,
        now_ms=13_900,
        receive_ms=13_850,
    )
    assert (seen.since_last_ms, seen.venue_since_last_ms) == (3_850, 2_900)
    assert (seen.venue_delay_ms, seen.wire_delay_ms) == (1_000, 950)


def test_when_an_old_event_replays_then_silence_and_timestamps_do_not_move() -> None:
    state, _ = feed(CONTIGUOUS, None, 5, at=100)
    later, _ = feed(CONTIGUOUS, state, 5, at=900)
    assert (later.last_receive_ms, later.last_ts_ms) == (100, 100)


def test_when_an_insurance_fund_print_arrives_then_the_reference_price_ignores_it() -> None:
    state, _ = feed(CONTIGUOUS, None, 1, price=Decimal("100"), trade_type="MARKET")
    state, _ = feed(CONTIGUOUS, state, 2, price=Decimal("98"), trade_type="INSURANCE_FUND")
    state, seen = feed(CONTIGUOUS, state, 3, price=Decimal("100.5"))
    assert seen.reference_price == Decimal("100")
    assert state.reference_price == Decimal("100.5")


def test_when_a_book_top_arrives_then_its_mid_is_the_reference_unless_crossed() -> None:
    book, _ = feed(MONOTONIC, None, 1, kind="book", bid=Decimal("99"), ask=Decimal("101"))
    crossed, _ = feed(MONOTONIC, book, 2, kind="book", bid=Decimal("102"), ask=Decimal("101"))
    assert (book.reference_price, crossed.reference_price) == (Decimal("100"), Decimal("100"))


def test_when_a_state_is_encoded_then_it_decodes_to_the_same_value() -> None:
    state, _ = run(CONTIGUOUS, [1, 2, 5, 5, 3, 9])
    state, _ = feed(CONTIGUOUS, state, 10, price=Decimal("101.25"))
    state, _ = feed(CONTIGUOUS, state, None, key="k-1")
    assert decode(StreamState, encode(state)) == state


def test_when_the_id_window_is_full_width_then_it_round_trips_exactly() -> None:
    config = FeedConfig("contiguous", 4096)
    state, _ = run(config, list(range(5000)))
    assert state is not None
    assert state.ids.bit_length() == 4096
    assert decode(StreamState, encode(state)) == state


def test_when_venue_or_symbol_hold_separators_then_row_keys_stay_distinct() -> None:
    assert row_key(("a:b", "c", "book")) != row_key(("a", "b:c", "book"))


def test_when_the_universe_is_built_then_limits_and_instruments_pairs_are_known() -> None:
    bundle = load_bundle(POLICIES)
    (listing,) = bundle.of_kind(Instruments)
    extra = listing.spec.instruments[0].model_copy(update={"venue": "kraken"})
    spec = listing.spec.model_copy(update={"instruments": [*listing.spec.instruments, extra]})
    universe = universe_of(bundle.of_kind(RiskLimits), [listing.model_copy(update={"spec": spec})])
    assert known(universe, "binance", "BTC/USDT")
    assert known(universe, "kraken", extra.symbol)
    assert not known(universe, "binance", "DOGE/USDT")
    assert not known(universe_of(()), "binance", "BTC/USDT")


# Properties

ids = st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=60)


@given(ids, st.sampled_from(["contiguous", "monotonic"]))
def test_when_ids_arrive_in_any_order_then_last_seq_never_moves_back(
    seqs: list[int], mode: str
) -> None:
    config = FeedConfig(mode, 8)  # type: ignore[arg-type]
    state: StreamState | None = None
    for i, seq in enumerate(seqs):
        state, _ = feed(config, state, seq, at=i)
        assert state.last_seq == max(seqs[: i + 1])


@given(ids)
def test_when_an_id_repeats_within_memory_then_every_repeat_is_flagged(seqs: list[int]) -> None:
    memory = 64  # above every id span the strategy draws, so every repeat is within memory
    _, seen = run(FeedConfig("contiguous", memory), list(seqs))
    for i, seq in enumerate(seqs):
        assert seen[i].duplicate == (seq in seqs[:i])


keys = st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=60)


@given(keys, st.integers(min_value=1, max_value=12))
def test_when_a_key_repeats_within_memory_then_the_repeat_is_flagged_and_memory_is_bounded(
    stream: list[str], memory: int
) -> None:
    config = FeedConfig("contiguous", memory)
    state: StreamState | None = None
    remembered: list[str] = []  # the model: keys of non-duplicates, last `memory` of them
    for key in stream:
        state, obs = feed(config, state, None, key=key, kind="balance")
        assert obs.duplicate == (key in remembered)
        if not obs.duplicate:
            remembered = [*remembered, key][-memory:]
        assert len(state.keys) <= memory
        assert state.ids.bit_length() <= memory


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=80))
def test_when_any_numbered_stream_runs_then_the_id_window_stays_within_memory(
    seqs: list[int],
) -> None:
    state, _ = run(FeedConfig("monotonic", 16), list(seqs))
    assert state is not None
    assert state.ids.bit_length() <= 16
    assert state.keys == ()


def test_the_default_config_is_contiguous_with_a_1024_memory() -> None:
    assert (DEFAULT_FEED_CONFIG.mode, DEFAULT_FEED_CONFIG.idempotency_memory) == (
        "contiguous",
        1024,
    )
