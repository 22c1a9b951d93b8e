"""Write an ``Instruments`` document from what a venue lists (``riskctl instruments pull``).

A new file gets a fresh document. An existing file is updated in place through ruamel's
round-trip tree: each entry for the venue's symbols has its fields set from the venue
(comments, order and untouched entries survive), new symbols are appended, and
``metadata.version`` is bumped when anything changed. The result must load and validate
as an Instruments document before it replaces the file (written atomically), so a bad
pull never replaces a good file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from riskctl.atomic import write_text_atomic
from riskctl.context import Instrument
from riskctl.errors import PolicyLoadError
from riskctl.loader import load_policies
from riskctl.yamlio import dump_roundtrip, parse_yaml

__all__ = ["entry_of", "pull_into"]

# Fields an Instruments entry takes from a venue, in the order a new entry lists them.
FIELDS = (
    "type",
    "price_increment",
    "qty_increment",
    "price_sig_digits",
    "qty_sig_digits",
    "price_precision",
    "qty_precision",
    "min_qty",
    "max_qty",
    "min_notional",
    "max_notional",
    "order_types",
)


def _yaml_value(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        seq = CommentedSeq([str(v) for v in value])
        seq.fa.set_flow_style()
        return seq
    return value  # a Decimal is written as its exact text (riskctl.yamlio)


def entry_of(venue: str, symbol: str, instrument: Instrument) -> dict[str, Any]:
    """The Instruments entry for one venue symbol (only fields the venue gave)."""
    data = instrument.model_dump(mode="python")
    entry: dict[str, Any] = {"venue": venue, "symbol": symbol}
    for name in FIELDS:
        value = data.get(name)
        if value is not None and value != ():
            entry[name] = value
    return entry


def _new_document(name: str) -> CommentedMap:
    root = CommentedMap()
    root["apiVersion"] = "riskctl/v1"
    root["kind"] = "Instruments"
    root["metadata"] = CommentedMap(name=name, version=1, owner="riskctl instruments pull")
    root["spec"] = CommentedMap(instruments=CommentedSeq())
    return root


def pull_into(
    path: Path,
    venue: str,
    instruments: Mapping[str, Instrument],
    symbols: Iterable[str] | None = None,
    *,
    name: str = "venue-instruments",
) -> tuple[int, int]:
    """Write ``instruments`` (only ``symbols`` if given) for ``venue`` into ``path``.

    Returns (entries changed, entries added). Raises PolicyLoadError (located) if the
    existing file is not a valid Instruments document or the result would not be one.
    """
    wanted = list(symbols) if symbols is not None else sorted(instruments)
    missing = [s for s in wanted if s not in instruments]
    if missing:
        raise KeyError(f"{venue} does not list {', '.join(missing)}")
    if path.exists():
        loaded, problems = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        if loaded is None:
            raise PolicyLoadError(f"{path} cannot be updated", problems)
        root = loaded.root
    else:
        root = _new_document(name)
    entries = root["spec"]["instruments"]
    changed = added = 0
    for symbol in wanted:
        fresh = entry_of(venue, symbol, instruments[symbol])
        current = next(
            (e for e in entries if e.get("venue") == venue and e.get("symbol") == symbol), None
        )
        if current is None:
            entries.append(CommentedMap((k, _yaml_value(v)) for k, v in fresh.items()))
            added += 1
            continue
        before = {k: current.get(k) for k in fresh}
        for key, value in fresh.items():
            if _differs(current.get(key), value):
                current[key] = _yaml_value(value)
        if any(_differs(before[k], fresh[k]) for k in fresh):
            changed += 1
    if (changed or added) and path.exists():
        root["metadata"]["version"] = int(root["metadata"]["version"]) + 1
    text = dump_roundtrip(root)
    _validate(text, path)
    if changed or added or not path.exists():
        write_text_atomic(path, text)
    return changed, added


def _differs(current: Any, fresh: Any) -> bool:
    if current is None:
        return True
    if isinstance(fresh, (tuple, list)):
        return [str(v) for v in current] != [str(v) for v in fresh]
    if isinstance(fresh, Decimal):
        return Decimal(str(current)) != fresh
    return bool(current != fresh)


def _validate(text: str, path: Path) -> None:
    """The written text must load as a valid policy document, or nothing is written."""
    import tempfile  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / path.name
        probe.write_text(text, encoding="utf-8")
        load_policies([probe])
