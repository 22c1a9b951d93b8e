"""schemas/session-event.schema.json: generated like the others, and it agrees with the reader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sessionkit import GOOD_EVENTS, HEADER

from riskctl.schemagen import check_schemas, generate_schemas
from riskctl.session import dump_event, parse_line

REPO = Path(__file__).resolve().parents[3]
NAME = "session-event.schema.json"
SCHEMA: dict[str, Any] = json.loads(generate_schemas()[NAME])
VALIDATOR = Draft202012Validator(SCHEMA)


def test_the_committed_schema_is_the_generated_one(tmp_path: Path) -> None:
    assert (REPO / "schemas" / NAME).read_text(encoding="utf-8") == generate_schemas()[NAME]
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["title"] == "riskctl session line"


def test_when_the_session_schema_is_missing_then_schema_check_names_it(tmp_path: Path) -> None:
    copy = tmp_path / "schemas"
    shutil.copytree(REPO / "schemas", copy)
    (copy / NAME).unlink()

    assert check_schemas(copy) == [f"{copy / NAME}: missing"]


@pytest.mark.parametrize("event", [HEADER, *GOOD_EVENTS], ids=lambda e: e.type)
def test_every_canonical_line_validates_against_the_schema(event: Any) -> None:
    assert list(VALIDATOR.iter_errors(json.loads(dump_event(event)))) == []


@pytest.mark.parametrize(
    "line",
    [
        {"type": "trade", "venue": "binance", "symbol": "BTC/USDT", "id": "1", "price": "-1",
         "qty": "1", "side": "buy", "recv_ms": 1},
        {"type": "trade", "venue": "binance", "symbol": "BTC/USDT", "id": "1", "price": "1",
         "qty": "1", "side": "buy", "recv_ms": 1, "colour": "red"},
        {"type": "book", "venue": "binance", "symbol": "BTC/USDT"},
        {"type": "quote", "venue": "binance"},
        {"type": "balance", "venue": "binance", "asset": "usdt", "free": "1", "locked": "0",
         "recv_ms": 1},
    ],
)  # fmt: skip
def test_a_line_the_reader_refuses_the_schema_refuses_too(line: dict[str, Any]) -> None:
    assert list(VALIDATOR.iter_errors(line)) != []
    assert isinstance(parse_line(json.dumps(line), line=1, path="x"), list)


def test_every_field_of_every_line_type_is_described_for_editors() -> None:
    undescribed = [
        f"{name}.{field}"
        for name, model in SCHEMA["$defs"].items()
        for field, node in model.get("properties", {}).items()
        if not node.get("description")
    ]

    assert undescribed == []
    assert all(model.get("additionalProperties") is False for model in SCHEMA["$defs"].values())
