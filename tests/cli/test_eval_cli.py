"""``riskctl eval``: a JSON decision and exit 0 whatever the outcome; located errors and exit 2.

Every case is a real run of the installed ``riskctl`` script. The runs are started together
once per module (each costs an interpreter start-up) and the tests read their results.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from riskctl.context import STAGES
from riskctl.lint import lint_paths

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
CONTEXTS = ROOT / "tests" / "data" / "engine" / "contexts"
RISKCTL = Path(sys.executable).parent / "riskctl"

Run = subprocess.CompletedProcess[str]
Case = Callable[[Path], tuple[list[str | Path], str | None]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(build: Case) -> Case:
        CASES[name] = build
        return build

    return register


def eval_args(stage: str, source: str | Path, policies: Path = POLICIES) -> list[str | Path]:
    return ["eval", "--policies", policies, "--stage", stage, "--input", source]


def policy_versions() -> dict[str, int]:
    """kind/name -> metadata.version of every example policy, read from the files."""
    yaml = YAML(typ="safe", pure=True)
    versions = {}
    for path in POLICIES.glob("*.yaml"):
        data = yaml.load(path.read_text(encoding="utf-8"))
        versions[f"{data['kind']}/{data['metadata']['name']}"] = data["metadata"]["version"]
    return versions


def load(stage: str) -> dict[str, Any]:
    return json.loads((CONTEXTS / f"{stage}.json").read_text(encoding="utf-8"))


def write(directory: Path, data: dict[str, Any] | str, name: str = "context.json") -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def position_of(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of the first ``needle`` in ``text``."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


LOCATED = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): error (?P<code>[a-z0-9-]+\.[a-z0-9-]+): "
)


def located(stderr: str) -> list[dict[str, Any]]:
    """Every stderr line parsed as ``path:line:col: error code: message``."""
    found = []
    for line in stderr.strip().splitlines():
        match = LOCATED.match(line)
        assert match, f"not a located diagnostic: {line!r}"
        found.append(
            {
                **match.groupdict(),
                "line": int(match["line"]),
                "col": int(match["col"]),
                "text": line,
            }
        )
    return found


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Run, Path]]:
    """Run every registered case once, several at a time; name -> (result, case directory)."""
    root = tmp_path_factory.mktemp("eval-cli")

    def run(name: str) -> tuple[Run, Path]:
        directory = root / name
        directory.mkdir()
        args, stdin = CASES[name](directory)
        result = subprocess.run(
            [str(RISKCTL), *map(str, args)],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=ROOT,
            check=False,
        )
        return result, directory

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(run, CASES), strict=True))


def test_no_run_ever_prints_a_traceback(cli) -> None:
    for name, (result, _) in cli.items():
        assert "Traceback" not in result.stderr, name
        assert "Traceback" not in result.stdout, name
        assert result.returncode in (0, 2), (name, result.returncode, result.stderr)


# -- every stage evaluates ---------------------------------------------------------------------

for _stage in STAGES:
    case(f"stage-{_stage}")(lambda d, s=_stage: (eval_args(s, CONTEXTS / f"{s}.json"), None))


@pytest.mark.parametrize("stage", STAGES)
def test_when_context_is_valid_then_exit_0_and_json_decision(cli, stage: str) -> None:
    result, _ = cli[f"stage-{stage}"]
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = json.loads(result.stdout)
    assert set(out) >= {"stage", "outcome", "allowed", "actions", "hits", "bundle", "eval_us"}
    assert out["stage"] == stage
    assert (out["outcome"], out["allowed"], out["actions"], out["hits"]) == ("allow", True, [], [])
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", out["bundle"]["hash"])
    assert out["bundle"]["versions"] == policy_versions()
    assert isinstance(out["eval_us"], int | float)
    assert out["eval_us"] >= 0


def test_when_stages_share_a_bundle_then_they_report_the_same_hash(cli) -> None:
    hashes = {json.loads(cli[f"stage-{s}"][0].stdout)["bundle"]["hash"] for s in STAGES}
    assert len(hashes) == 1


# -- decisions that fire -----------------------------------------------------------------------


@case("ingest-stale")
def _(directory: Path):
    data = load("ingest")
    data["now_ms"] = data["event"]["ts_ms"] + 3001
    return eval_args("ingest", write(directory, data)), None


def test_when_ingest_event_is_stale_then_the_hit_shows_and_exit_is_still_0(cli) -> None:
    result, _ = cli["ingest-stale"]
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["outcome"], out["allowed"]) == ("reject", False)
    (hit,) = out["hits"]
    assert hit["rule_id"] == "ingest-stale"
    assert hit["code"] == "rule.ingest-stale"
    assert hit["policy"] == "Rules/mm-guards"
    assert hit["mode"] == "enforce"
    assert hit["values"] == {"event.age_ms": 3001}
    assert "reject" in out["actions"]


@case("okx-limits")
def _(directory: Path):
    data = load("pre_trade")
    data["order"].update(venue="okx", qty=3)
    return eval_args("pre_trade", write(directory, data)), None


def test_when_order_breaks_okx_limits_then_limit_hits_show_values_and_scope(cli) -> None:
    result, _ = cli["okx-limits"]
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["outcome"] == "reject"
    hits = {hit["rule_id"]: hit for hit in out["hits"]}
    assert set(hits) == {"max_order_qty", "max_order_notional"}
    assert hits["max_order_qty"]["code"] == "limit.max_order_qty"
    assert hits["max_order_qty"]["values"] == {
        "order.qty": "3",
        "limit": "2",
        "scope": "okx:BTC/USDT",
    }
    assert hits["max_order_notional"]["values"]["order.notional"] == "194970"


@case("no-quote-balance")
def _(directory: Path):
    data = load("pre_trade")
    del data["account"]["quote_free"]
    return eval_args("pre_trade", write(directory, data)), None


def test_when_a_buy_has_no_free_quote_balance_then_the_balance_check_fails_closed(cli) -> None:
    result, _ = cli["no-quote-balance"]
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["outcome"], out["allowed"]) == ("reject", False)
    (hit,) = out["hits"]
    assert (hit["rule_id"], hit["code"], hit["action"]) == (
        "insufficient_quote",
        "rule.error",
        "reject",
    )
    assert hit["values"]["account.quote_free"] is None
    assert "quote_free is null" in hit["message"]


@case("many-digits")
def _(directory: Path):
    policies = directory / "policies"
    policies.mkdir()
    (policies / "limits.yaml").write_text(
        "apiVersion: riskctl/v1\nkind: RiskLimits\nmetadata: {name: l, version: 1, owner: t}\n"
        "spec:\n  environment: paper\n  venues:\n"
        "    - {venue: binance, account: a-1, symbols: [BTC/USDT]}\n"
        "  defaults: {max_order_qty: 1000000000}\n",
        encoding="utf-8",
    )
    text = (CONTEXTS / "pre_trade.json").read_text(encoding="utf-8")
    text = text.replace('"qty": 0.5', '"qty": 1000000000.00000001')
    return eval_args("pre_trade", write(directory, text), policies), None


def test_when_qty_is_one_step_over_the_limit_with_many_digits_then_reject(cli) -> None:
    """JSON numbers are decimals end to end: 1000000000.00000001 is over 1000000000."""
    result, _ = cli["many-digits"]
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["outcome"] == "reject", out
    assert out["hits"][0]["values"]["order.qty"] == "1000000000.00000001"


# -- standard input ----------------------------------------------------------------------------

case("stdin")(
    lambda d: (
        eval_args("pre_trade", "-"),
        (CONTEXTS / "pre_trade.json").read_text(encoding="utf-8"),
    )
)

STDIN_BAD = (
    '{\n  "now_ms": 1,\n'
    '  "event": {"type": "book", "venue": "okx", "symbol": "X", "ts_ms": 1, "colour": 1}\n}\n'
)
case("stdin-bad")(lambda d: (eval_args("ingest", "-"), STDIN_BAD))


def test_when_input_is_dash_then_context_is_read_from_stdin(cli) -> None:
    from_stdin, from_file = cli["stdin"][0], cli["stage-pre_trade"][0]
    assert from_stdin.returncode == 0, from_stdin.stderr
    a, b = json.loads(from_stdin.stdout), json.loads(from_file.stdout)
    a.pop("eval_us")
    b.pop("eval_us")
    assert a == b


def test_when_stdin_is_bad_then_errors_are_located_in_stdin(cli) -> None:
    result, _ = cli["stdin-bad"]
    assert result.returncode == 2
    (problem,) = located(result.stderr)
    assert problem["path"] == "<stdin>"
    assert problem["code"] == "context.unknown-key"
    assert (problem["line"], problem["col"]) == position_of(STDIN_BAD, '"colour"')


# -- bad input: exit 2, located ----------------------------------------------------------------

MALFORMED = '{\n  "now_ms": 1,\n  "event": {"type": "book",, "venue": "okx"}\n}\n'
case("malformed")(lambda d: (eval_args("ingest", write(d, MALFORMED)), None))


def test_when_json_is_malformed_then_exit_2_with_file_line_col(cli) -> None:
    result, directory = cli["malformed"]
    assert result.returncode == 2
    assert result.stdout == ""
    (problem,) = located(result.stderr)
    assert problem["path"] == str(directory / "context.json")
    assert problem["code"].startswith("yaml.")
    assert problem["line"] == 3


def _many_wrong_fields() -> dict[str, Any]:
    data = load("pre_trade")
    data["order"].update(colour="red", side="hold", qty=-1)
    del data["order"]["client_order_id"]
    data["account"].update(drawdown=-5, open_orders="many")
    data["state"]["trading_state"] = "PAUSED"
    data["position"]["avg_price"] = "cheap"
    return data


case("wrong-fields")(lambda d: (eval_args("pre_trade", write(d, _many_wrong_fields())), None))

WRONG = [  # code, text to find in the file (None: the parent's line), where in it
    ("context.unknown-key", '"colour"', "key"),
    ("context.invalid-choice", '"hold"', "value"),
    ("context.out-of-bounds", '"qty": -1', "line"),
    ("context.missing-field", None, "order"),
    ("context.out-of-bounds", '"drawdown": -5', "line"),
    ("context.wrong-type", '"many"', "value"),
    ("context.invalid-choice", '"PAUSED"', "value"),
    ("context.wrong-type", '"cheap"', "value"),
]


def test_when_fields_are_wrong_then_exit_2_and_each_is_located_with_a_context_code(cli) -> None:
    result, directory = cli["wrong-fields"]
    assert result.returncode == 2
    assert result.stdout == ""
    path = directory / "context.json"
    text = path.read_text(encoding="utf-8")
    problems = located(result.stderr)
    assert sorted(p["code"] for p in problems) == sorted(code for code, _, _ in WRONG)
    assert all(p["path"] == str(path) for p in problems)
    by_place = {(p["line"], p["col"]): p for p in problems}
    for code, needle, where in WRONG:
        if needle is None:
            assert any(p["code"] == code and "client_order_id" in p["text"] for p in problems)
            continue
        line, column = position_of(text, needle)
        if where == "line":
            assert any(p["code"] == code and p["line"] == line for p in problems), (code, needle)
        else:
            assert (line, column) in by_place, (code, needle, sorted(by_place))
            assert by_place[(line, column)]["code"] == code


@case("derived")
def _(directory: Path):
    data = load("pre_trade")
    data["order"]["notional"] = 32495
    return eval_args("pre_trade", write(directory, data)), None


def test_when_a_derived_field_is_given_then_exit_2_saying_it_is_derived(cli) -> None:
    result, directory = cli["derived"]
    assert result.returncode == 2
    (problem,) = located(result.stderr)
    assert problem["code"].startswith("context.")
    assert "notional" in problem["text"]
    assert "derived" in problem["text"]
    text = (directory / "context.json").read_text(encoding="utf-8")
    assert problem["line"] == position_of(text, '"order"')[0]  # at least the order it is in


NOT_FINITE = {
    "order.qty": "NaN",
    "order.price": ".inf",
    "market.bid": "-.inf",
    "account.equity": '"Infinity"',
    "position.qty": ".nan",
}


@case("not-finite")
def _(directory: Path):
    text = (CONTEXTS / "pre_trade.json").read_text(encoding="utf-8")
    for old, new in (
        ('"qty": 0.5', '"qty": NaN'),
        ('"price": 64990', '"price": .inf'),
        ('"bid": 64999.5', '"bid": -.inf'),
        ('"equity": 1000000', '"equity": "Infinity"'),
        ('"qty": 1.25', '"qty": .nan'),
    ):
        assert old in text
        text = text.replace(old, new)
    return eval_args("pre_trade", write(directory, text)), None


def test_when_numbers_are_not_finite_then_exit_2_one_error_each(cli) -> None:
    result, _ = cli["not-finite"]
    assert result.returncode == 2
    problems = located(result.stderr)
    assert len(problems) == len(NOT_FINITE)
    for field in NOT_FINITE:
        assert any(field in p["text"] for p in problems), field


NOT_CONTEXTS = {
    "list": ("[1, 2, 3]\n", "context.wrong-type"),
    "duplicate": ('{"now_ms": 1, "now_ms": 2}\n', "yaml.duplicate-key"),
}
for _name, (_content, _) in NOT_CONTEXTS.items():
    case(f"not-context-{_name}")(lambda d, c=_content: (eval_args("pre_trade", write(d, c)), None))


@pytest.mark.parametrize("name", NOT_CONTEXTS)
def test_when_the_input_is_not_a_context_then_exit_2_located(cli, name) -> None:
    result, _ = cli[f"not-context-{name}"]
    assert result.returncode == 2
    problems = located(result.stderr)
    assert [p["code"] for p in problems] == [NOT_CONTEXTS[name][1]]


case("missing-input")(lambda d: (eval_args("pre_trade", d / "missing.json"), None))
case("directory-input")(lambda d: (eval_args("pre_trade", d), None))


def test_when_the_input_file_does_not_exist_then_exit_2_with_file_not_found_as_lint_says(
    cli,
) -> None:
    result, directory = cli["missing-input"]
    missing = directory / "missing.json"

    assert result.returncode == 2
    assert result.stderr == f"{missing}:1:1: error file.not-found: no such file or directory\n"
    assert [d.format() for d in lint_paths([missing]).diagnostics] == [result.stderr.strip()]


def test_when_the_input_is_not_a_regular_file_then_exit_2_unreadable(cli) -> None:
    result, _ = cli["directory-input"]
    assert result.returncode == 2
    assert [p["code"] for p in located(result.stderr)] == ["file.unreadable"]
    assert "not a regular file" in result.stderr


EMPTY_CONTEXT = "the context is empty: the input holds no JSON or YAML document"
case("empty-file")(lambda d: (eval_args("pre_trade", write(d, "")), None))
case("comments-only-stdin")(lambda d: (eval_args("pre_trade", "-"), "# nothing here\n"))


@pytest.mark.parametrize(
    ("name", "where"), [("empty-file", "context.json"), ("comments-only-stdin", "<stdin>")]
)
def test_when_the_context_is_empty_then_exit_2_saying_so_not_naming_a_policy(
    cli, name: str, where: str
) -> None:
    result, _ = cli[name]
    assert result.returncode == 2
    (problem,) = located(result.stderr)
    assert (Path(problem["path"]).name, problem["code"]) == (where, "yaml.empty")
    assert problem["text"].endswith(f"yaml.empty: {EMPTY_CONTEXT}")
    assert "policy" not in result.stderr


BAD_RULE = "when: event.age_mss > 3000"


@case("bad-policies")
def _(directory: Path):
    policies = directory / "policies"
    policies.mkdir()
    for source in POLICIES.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        (policies / source.name).write_text(
            text.replace("when: event.age_ms > 3000", BAD_RULE), encoding="utf-8"
        )
    return eval_args("ingest", CONTEXTS / "ingest.json", policies), None


def test_when_policies_are_bad_then_exit_2_with_located_policy_errors(cli) -> None:
    result, directory = cli["bad-policies"]
    assert result.returncode == 2
    assert result.stdout == ""
    rules = directory / "policies" / "rules.yaml"
    (problem,) = located(result.stderr)
    assert problem["path"] == str(rules)
    assert problem["code"] == "expr.unknown-name"
    text = rules.read_text(encoding="utf-8")
    assert (problem["line"], problem["col"]) == position_of(text, "event.age_mss")
