"""riskctl.bundle: no partial bundles, a content hash blind to formatting, Kind/name versions."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from riskctl.bundle import PolicyBundle, canonical_json, load_bundle
from riskctl.errors import PolicyLoadError
from riskctl.kinds import RiskLimits, Rules

REPO = Path(__file__).resolve().parents[3]
POLICIES = REPO / "policies"
DATA = REPO / "tests" / "data"

BASE = """\
apiVersion: riskctl/v1
kind: RiskLimits
metadata:
  name: hashed
  version: 4
  owner: desk-crypto
  labels: {book: mm}
spec:
  environment: paper
  venues:
    - venue: binance
      account: mm-1
      symbols: [BTC/USDT, ETH/USDT]
  defaults:
    max_order_notional: 250000
    price_collar_bps: 1.5
  scoped:
    - scope: {symbol: BTC/USDT}
      max_order_qty: 5
"""

SAME_CONTENT = {
    "comments": """\
# yaml-language-server: $schema=../schemas/risk-limits.schema.json
# A comment at the top changes nothing.
apiVersion: riskctl/v1   # the format
kind: RiskLimits
metadata:
  name: hashed
  version: 4             # bumped on every change
  owner: desk-crypto
  labels: {book: mm}
spec:
  environment: paper
  venues:
    # one account
    - venue: binance
      account: mm-1
      symbols: [BTC/USDT, ETH/USDT]
  defaults:
    max_order_notional: 250000
    price_collar_bps: 1.5

  scoped:
    - scope: {symbol: BTC/USDT}
      max_order_qty: 5   # BTC
""",
    "flow-style-and-quotes": """\
{"apiVersion": "riskctl/v1", "kind": "RiskLimits",
 "metadata": {"name": "hashed", "version": 4, "owner": "desk-crypto", "labels": {"book": "mm"}},
 "spec": {"environment": 'paper',
          "venues": [{"venue": "binance", "account": "mm-1", "symbols": ["BTC/USDT", "ETH/USDT"]}],
          "defaults": {"max_order_notional": 250000, "price_collar_bps": 1.5},
          "scoped": [{"scope": {"symbol": "BTC/USDT"}, "max_order_qty": 5}]}}
""",
    "key-order": """\
spec:
  scoped:
    - max_order_qty: 5
      scope: {symbol: BTC/USDT}
  defaults:
    price_collar_bps: 1.5
    max_order_notional: 250000
  venues:
    - symbols: [BTC/USDT, ETH/USDT]
      account: mm-1
      venue: binance
  environment: paper
metadata:
  labels: {book: mm}
  owner: desk-crypto
  version: 4
  name: hashed
kind: RiskLimits
apiVersion: riskctl/v1
""",
    "number-spelling": BASE.replace("price_collar_bps: 1.5", "price_collar_bps: 1.50")
    .replace("max_order_notional: 250000", "max_order_notional: 2.5e5")
    .replace("max_order_qty: 5", "max_order_qty: 5.000"),
    "anchors": BASE.replace("[BTC/USDT, ETH/USDT]", "&syms [BTC/USDT, ETH/USDT]"),
    "explicit-nulls-and-defaults": BASE.replace(
        "    price_collar_bps: 1.5\n", "    price_collar_bps: 1.5\n    clip_order_qty: null\n"
    ),
}

CHANGED_CONTENT = {
    "limit": BASE.replace("price_collar_bps: 1.5", "price_collar_bps: 1.6"),
    "tiny-limit-change": BASE.replace("max_order_qty: 5", "max_order_qty: 5.001"),
    "version": BASE.replace("version: 4", "version: 5"),
    "owner": BASE.replace("owner: desk-crypto", "owner: desk-rates"),
    "label": BASE.replace("{book: mm}", "{book: mm2}"),
    "symbol-added": BASE.replace("[BTC/USDT, ETH/USDT]", "[BTC/USDT, ETH/USDT, SOL/USDT]"),
    "name": BASE.replace("name: hashed", "name: hashed-2"),
}


def bundle_of(tmp_path: Path, text: str, file_name: str = "limits.yaml") -> PolicyBundle:
    directory = tmp_path / file_name.replace(".", "-")
    directory.mkdir()
    (directory / file_name).write_text(text)
    return load_bundle(directory)


# -- no partial bundle -------------------------------------------------------------------------


def test_when_one_file_is_good_and_one_is_bad_then_load_bundle_raises_with_the_bad_files_problems(
    tmp_path: Path,
) -> None:
    shutil.copy(DATA / "good" / "rules-minimal.yaml", tmp_path / "a-rules.yaml")
    shutil.copy(DATA / "bad" / "out-of-bounds.yaml", tmp_path / "b-limits.yaml")

    with pytest.raises(PolicyLoadError) as caught:
        load_bundle(tmp_path)

    problems = caught.value.diagnostics
    assert {d.location.path for d in problems} == {str(tmp_path / "b-limits.yaml")}
    assert {d.code for d in problems} == {"policy.out-of-bounds"}
    assert len(problems) == 6


def test_when_two_files_are_bad_then_one_load_reports_both(tmp_path: Path) -> None:
    shutil.copy(DATA / "bad" / "duplicate-key.yaml", tmp_path / "one.yaml")
    shutil.copy(DATA / "bad" / "unknown-kind.yaml", tmp_path / "two.yaml")
    shutil.copy(DATA / "good" / "inventory-bands.yaml", tmp_path / "three.yaml")

    with pytest.raises(PolicyLoadError) as caught:
        load_bundle(tmp_path)

    reported = [(Path(d.location.path).name, d.code) for d in caught.value.diagnostics]
    assert reported == [("one.yaml", "yaml.duplicate-key"), ("two.yaml", "policy.unknown-kind")]


def test_when_names_collide_across_files_then_load_bundle_raises(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE)
    (tmp_path / "b.yaml").write_text(BASE.replace("version: 4", "version: 5"))

    with pytest.raises(PolicyLoadError) as caught:
        load_bundle(tmp_path)

    assert [d.code for d in caught.value.diagnostics] == ["policy.duplicate-name"]


# -- the example set -----------------------------------------------------------------------------


def test_the_example_policies_load_into_one_bundle_with_a_sha256_hash() -> None:
    bundle = load_bundle(POLICIES)

    assert re.fullmatch(r"sha256:[0-9a-f]{64}", bundle.hash)
    assert len(bundle.documents) == len(list(POLICIES.glob("*.yaml")))


def test_versions_map_each_kind_and_name_to_its_metadata_version() -> None:
    yaml = YAML(typ="safe")
    wanted = {}
    for path in POLICIES.glob("*.yaml"):
        data = yaml.load(path.read_text())
        wanted[f"{data['kind']}/{data['metadata']['name']}"] = data["metadata"]["version"]

    bundle = load_bundle(POLICIES)

    assert bundle.versions == wanted
    # Read from the file above, never hard-coded: a policy bump must not break this test.
    assert wanted["RiskLimits/btc-eth-mm"] >= 1
    assert all(isinstance(v, int) and v >= 1 for v in bundle.versions.values())
    assert bundle.summary() == {"hash": bundle.hash, "versions": wanted}


def test_when_no_path_is_given_then_load_bundle_reads_policies_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)

    assert load_bundle().hash == load_bundle(POLICIES).hash


def test_bundle_lookups_by_kind_and_by_ref() -> None:
    bundle = load_bundle(DATA / "good")

    (limits,) = bundle.of_kind(RiskLimits)
    assert limits.metadata.name == "anchors-and-aliases"
    assert [r.metadata.name for r in bundle.of_kind(Rules)] == ["minimal-rules"]
    source = bundle.source_of("Rules/minimal-rules")
    assert source.path == str(DATA / "good" / "rules-minimal.yaml")
    with pytest.raises(KeyError):
        bundle.source_of("Rules/absent")


# -- the content hash ------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", sorted(SAME_CONTENT))
def test_when_only_formatting_comments_order_or_number_spelling_differ_then_hash_is_equal(
    tmp_path: Path, variant: str
) -> None:
    base = bundle_of(tmp_path, BASE, "base.yaml")

    other = bundle_of(tmp_path, SAME_CONTENT[variant], "variant.yaml")

    assert other.hash == base.hash
    assert other.versions == base.versions == {"RiskLimits/hashed": 4}


@pytest.mark.parametrize("change", sorted(CHANGED_CONTENT))
def test_when_a_value_changes_then_hash_changes(tmp_path: Path, change: str) -> None:
    base = bundle_of(tmp_path, BASE, "base.yaml")

    other = bundle_of(tmp_path, CHANGED_CONTENT[change], "changed.yaml")

    assert other.hash != base.hash


def test_when_files_are_renamed_or_moved_then_hash_is_equal(tmp_path: Path) -> None:
    rules = (DATA / "good" / "rules-minimal.yaml").read_text()
    first = tmp_path / "first"
    second = tmp_path / "second" / "nested"
    first.mkdir()
    second.mkdir(parents=True)
    (first / "a.yaml").write_text(BASE)
    (first / "b.yaml").write_text(rules)
    (second / "z-limits.yaml").write_text(BASE)
    (second / "0-rules.yaml").write_text(rules)

    assert load_bundle(first).hash == load_bundle(tmp_path / "second").hash


def test_when_a_document_is_added_then_hash_and_versions_change(tmp_path: Path) -> None:
    base = bundle_of(tmp_path, BASE, "base.yaml")
    directory = tmp_path / "two"
    directory.mkdir()
    (directory / "limits.yaml").write_text(BASE)
    shutil.copy(DATA / "good" / "rules-minimal.yaml", directory / "rules.yaml")

    both = load_bundle(directory)

    assert both.hash != base.hash
    assert both.versions == {"RiskLimits/hashed": 4, "Rules/minimal-rules": 1}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.50"), b'"1.5"'),
        (Decimal("1.5"), b'"1.5"'),
        (Decimal("250000"), b'"250000"'),
        (Decimal("2.5E+5"), b'"250000"'),
        (Decimal("-0"), b'"0"'),
        (Decimal("0.000"), b'"0"'),
        (Decimal("-0.10"), b'"-0.1"'),
    ],
)
def test_canonical_json_normalises_decimals(value: Decimal, text: bytes) -> None:
    assert canonical_json(value) == text


def test_canonical_json_sorts_keys_and_drops_whitespace() -> None:
    assert canonical_json({"b": [1, Decimal("2.0")], "a": {"d": None, "c": True}}) == (
        b'{"a":{"c":true,"d":null},"b":[1,"2"]}'
    )
