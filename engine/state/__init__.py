"""The runtime's memory: pure state machines, and the stores that keep their state durable.

Each machine module holds frozen state values and pure transitions,
``(state, input, now_ms) -> (state, effects)``: no I/O and no clock reads, so a replay of
the same events gives the same states. Stores persist the rows (``riskctl.state.store``).
"""

from riskctl.state.effects import Effect
from riskctl.state.memory_store import MemoryStore
from riskctl.state.sqlite_store import SqliteStore
from riskctl.state.store import AuditRecord, Control, NewRecord, Snapshot, StateStore

__all__ = [
    "AuditRecord",
    "Control",
    "Effect",
    "MemoryStore",
    "NewRecord",
    "Snapshot",
    "SqliteStore",
    "StateStore",
]
