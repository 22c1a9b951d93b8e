"""The session format: a recorded market session as JSON Lines, one event per line.

A session file (``.jsonl``, or ``.jsonl.gz``) holds one JSON object per line. An optional
first line ``{"type": "session", "name": ...}`` says what the session is; every other
line is an event, told apart by ``type``:

========== ================================================================================
type       fields (``?`` optional)
========== ================================================================================
trade      venue, symbol, id, price, qty, side (taker), trade_type?, ts_ms?, recv_ms
book       venue, symbol, bid?, ask?, bid_qty?, ask_qty?, seq?, ts_ms?, recv_ms
balance    venue, asset, free, locked, recv_ms
position   venue, symbol, qty, recv_ms
signal     strategy, venue, symbol, side, qty, price?, recv_ms
order      venue, symbol, action (new|amend|cancel), client_order_id, strategy, side?,
           order_type? (limit|market), qty?, price?, time_in_force? (GTC|IOC|PO),
           reduce_only?, group?, leg_timeout_ms?, recv_ms
venue      venue, event (rate_limited|error|outage_start|outage_end|latency),
           retry_after_s?, http_status?, error_class?, latency_ms?, count?, recv_ms
fill       venue, symbol, client_order_id, trade_id, side, qty, price, fee, ts_ms, recv_ms
========== ================================================================================

Prices, quantities and money are exact decimals: read JSON numbers or decimal strings,
written as strings. ``recv_ms`` is the receiver's clock (required), ``ts_ms`` the venue's.
Events are replayed in file order; see :mod:`riskctl.session.reader` for what happens
when ``recv_ms`` goes back. The JSON Schema of a line is ``schemas/session-event.schema.json``.

    from riskctl.session import read_session, SessionProblem

    for item in read_session(Path("tools/sessions/sample.jsonl.gz")):
        if isinstance(item, SessionProblem):
            print(item)          # path:line:column: code: message
        else:
            ...                  # a TradeEvent, BookEvent, ...
"""

from riskctl.session.codec import dump_event, parse_line, write_event
from riskctl.session.events import (
    EVENT_TYPES,
    BalanceEvent,
    BookEvent,
    FillEvent,
    OrderEvent,
    PositionEvent,
    SessionEvent,
    SessionHeader,
    SessionLine,
    SignalEvent,
    TradeEvent,
    VenueEvent,
)
from riskctl.session.problems import SessionError, SessionProblem
from riskctl.session.reader import MAX_LINE_BYTES, read_header, read_session
from riskctl.session.schema import session_line_schema
from riskctl.session.writer import open_session_writer, write_session

__all__ = [
    "EVENT_TYPES",
    "MAX_LINE_BYTES",
    "BalanceEvent",
    "BookEvent",
    "FillEvent",
    "OrderEvent",
    "PositionEvent",
    "SessionError",
    "SessionEvent",
    "SessionHeader",
    "SessionLine",
    "SessionProblem",
    "SignalEvent",
    "TradeEvent",
    "VenueEvent",
    "dump_event",
    "open_session_writer",
    "parse_line",
    "read_header",
    "read_session",
    "session_line_schema",
    "write_event",
    "write_session",
]
