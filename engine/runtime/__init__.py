"""The runtime above the pure Gate: state completed, decisions applied, commits durable."""

from riskctl.runtime.stateful import StatefulGate, Step, describe

__all__ = ["StatefulGate", "Step", "describe"]
