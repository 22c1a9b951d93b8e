"""Replay: a recorded market session through all six stages under the policies."""
