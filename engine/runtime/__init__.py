"""The runtime above the pure Gate: state completed, decisions applied, commits durable."""

from riskctl.runtime.stateful import Batch, StatefulGate, Step, describe

__all__ = ["Batch", "StatefulGate", "Step", "describe"]
