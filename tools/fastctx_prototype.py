"""PROTOTYPE, measured and not wired in: a plain dict -> context model compiled from pydantic.

Kept beside the engine, not in it, as the evidence for issue 15 item 4: a validator
compiled to plain Python (generated code, checks inline) is no faster than pydantic-core
for these models (tools/bench_context.py: 0.8x to 1.1x per stage), because pydantic's own
share of the cost is already small; most of it is the models' Python validators and
derivations, which both paths run. Do not wire it into the gate as it stands.

What it would be, for the record:

pydantic stays the one schema source: each stage model's core schema is compiled once into
small Python checks for the plain, valid shapes a bot sends (numbers as int, float, str or
Decimal; literals; bools; strings; nested dicts; omitted defaults). The models' own
validators and derivations run unchanged (they are called from the schema), and the model
is then built without validating again. Anything the compiled checks do not recognise, or
that fails any check, raises ``Defer``, and the caller runs ``model_validate``, so every
error, its message and its location, is pydantic's.

Deferring is always safe; accepting is allowed only where ``model_validate`` would accept
the same input and return an equal model (tools/bench_context.py checks that on the
policy tests' contexts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from riskctl.context.base import DerivedModel

__all__ = ["Defer", "compile_model", "fast_validate"]

Check = Callable[[Any], Any]

_compiled: dict[type[BaseModel], Check] = {}
_REFUSE_DERIVED = DerivedModel._refuse_derived.__func__


class Defer(Exception):  # noqa: N818  # a signal to the caller, not an error
    """The fast path does not decide this input; ``model_validate`` must."""


def fast_validate(model: type[BaseModel], data: Mapping[str, Any]) -> Any:
    """``model.model_validate(data)``'s result for a plain valid dict, or None: validate it.

    Fails closed: any exception in the fast path, expected or not, means None.
    """
    check = _compiled.get(model)
    if check is None:
        check = _compiled[model] = compile_model(model)
    try:
        return check(data)
    except Exception:  # noqa: BLE001  # anything unexpected: let pydantic decide
        return None


def compile_model(model: type[BaseModel]) -> Check:
    """The compiled check of ``model``'s core schema (one that always defers, if unknown)."""
    return _node(dict(model.__pydantic_core_schema__))


def _defer(_value: Any) -> Any:
    raise Defer


def _node(schema: Mapping[str, Any]) -> Check:
    build = _BUILDERS.get(schema.get("type", ""))
    return _defer if build is None else build(schema)


# -- leaves ------------------------------------------------------------------------------


_NO_LOW, _NO_HIGH = Decimal("-Infinity"), Decimal("Infinity")


def _decimal(schema: Mapping[str, Any]) -> Check:
    known = {"type", "ge", "gt", "le", "lt", "allow_inf_nan", "decimal_places", "metadata"}
    if set(schema) - known or schema.get("allow_inf_nan", False):
        return _defer
    # Bounds as Decimals (a Decimal compares faster with a Decimal than with an int); an
    # open bound also refuses the bound itself.
    low = Decimal(schema.get("ge", schema.get("gt", _NO_LOW)))
    high = Decimal(schema.get("le", schema.get("lt", _NO_HIGH)))
    open_low, open_high = "gt" in schema, "lt" in schema
    places = schema.get("decimal_places")
    plain = _plain_number(places)

    def check(value: Any) -> Decimal:
        kind = type(value)
        if kind is str and plain(value):
            number = Decimal(value)  # within the places already: the pattern counts them
        elif kind is int:
            number = Decimal(value)
        elif kind is float:
            text = repr(value)  # pydantic reads a float by its shortest repr
            number = Decimal(text) if plain(text) else _bounded_places(Decimal(text), places)
        elif kind is Decimal:
            number = _bounded_places(value, places)
        else:
            raise Defer
        if (
            number < low
            or number > high
            or (open_low and number == low)
            or (open_high and number == high)
        ):
            raise Defer
        return number

    return check


def _plain_number(places: int | None) -> Callable[[str], Any]:
    """Matches the plain ASCII decimals (within ``places``) that convert as they read.

    pydantic also reads " 1", "1_000", "1e3" or Arabic-Indic digits; those go the long way.
    """
    most = 40 if places is None else places
    fraction = rf"(?:\.[0-9]{{1,{most}}})?" if most else ""
    return re.compile(r"-?[0-9]{1,40}" + fraction).fullmatch


def _bounded_places(number: Decimal, places: int | None) -> Decimal:
    """``number`` if finite and within ``places`` decimals as written, else Defer."""
    if not number.is_finite():
        raise Defer
    exponent = number.as_tuple().exponent
    # pydantic counts places after dropping trailing zeros; the raw count is never smaller,
    # so within it pydantic accepts too (beyond it, pydantic decides).
    if places is not None and isinstance(exponent, int) and -exponent > places:
        raise Defer
    return number


def _int(schema: Mapping[str, Any]) -> Check:
    if set(schema) - {"type", "strict", "ge", "gt", "le", "lt", "metadata"}:
        return _defer
    low, high = schema.get("ge", schema.get("gt")), schema.get("le", schema.get("lt"))
    open_low, open_high = "gt" in schema, "lt" in schema

    def check(value: Any) -> int:
        if type(value) is not int:  # a bool is no int here
            raise Defer
        if low is not None and (value < low or (open_low and value == low)):
            raise Defer
        if high is not None and (value > high or (open_high and value == high)):
            raise Defer
        return value

    return check


def _bool(schema: Mapping[str, Any]) -> Check:
    if set(schema) - {"type", "strict", "metadata"}:
        return _defer

    def check(value: Any) -> bool:
        if type(value) is not bool:
            raise Defer
        return value

    return check


def _str(schema: Mapping[str, Any]) -> Check:
    if set(schema) - {"type", "min_length", "max_length", "pattern", "metadata"}:
        return _defer
    low, high = schema.get("min_length", 0), schema.get("max_length")
    pattern = schema.get("pattern")
    search = None if pattern is None else re.compile(pattern).search

    def check(value: Any) -> str:
        if type(value) is not str or len(value) < low or (high is not None and len(value) > high):
            raise Defer
        # Python's re and pydantic's Rust regex agree on printable ASCII; others go to pydantic.
        if search is not None and not (value.isascii() and value.isprintable() and search(value)):
            raise Defer
        return value

    return check


def _literal(schema: Mapping[str, Any]) -> Check:
    expected = schema["expected"]
    if set(schema) - {"type", "expected", "metadata"} or any(type(e) is not str for e in expected):
        return _defer
    allowed = frozenset(expected)

    def check(value: Any) -> str:
        if type(value) is not str or value not in allowed:
            raise Defer
        return value

    return check


def _tuple(schema: Mapping[str, Any]) -> Check:
    items = schema.get("items_schema", [])
    known = {"type", "items_schema", "variadic_item_index", "min_length", "max_length", "metadata"}
    if set(schema) - known or len(items) != 1 or schema.get("variadic_item_index") != 0:
        return _defer
    item = _node(items[0])
    low, high = schema.get("min_length", 0), schema.get("max_length")

    def check(value: Any) -> tuple[Any, ...]:
        if type(value) not in (list, tuple) or len(value) < low:
            raise Defer
        if high is not None and len(value) > high:
            raise Defer
        return tuple(item(v) for v in value)

    return check


# -- wrappers ----------------------------------------------------------------------------


def _nullable(schema: Mapping[str, Any]) -> Check:
    inner = _node(schema["schema"])

    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return check


class _Info:
    """What a field validator reads from pydantic's ValidationInfo: the fields before it."""

    __slots__ = ("data", "field_name")
    mode = "python"
    context = None
    config = None

    def __init__(self, data: dict[str, Any], field_name: str) -> None:
        self.data = data
        self.field_name = field_name


def _function_after(schema: Mapping[str, Any]) -> Check:
    inner, function = _node(schema["schema"]), schema["function"]
    if function.get("type") != "no-info":
        return _defer  # with-info validators are called by the field that owns them
    call = function["function"]

    def check(value: Any) -> Any:
        return call(inner(value))

    return check


def _function_before(schema: Mapping[str, Any]) -> Check:
    function = schema["function"]
    if function.get("type") != "no-info":
        return _defer
    call = function["function"]
    owner = getattr(call, "__self__", None)
    if getattr(call, "__func__", None) is _REFUSE_DERIVED and schema["schema"]["type"] == (
        "model-fields"
    ):
        # Refusing derived keys is refusing them as extra keys: no call per model needed.
        return _model_fields(schema["schema"], refused=owner.DERIVED)
    inner = _node(schema["schema"])

    def check(value: Any) -> Any:
        return inner(call(value))

    return check


def _model(schema: Mapping[str, Any]) -> Check:
    cls: type[BaseModel] = schema["cls"]
    config = schema.get("config", {})
    fields = schema["schema"]
    if (
        schema.get("custom_init")
        or schema.get("root_model")
        or schema.get("post_init")
        or cls.__private_attributes__
        or config.get("extra_fields_behavior") != "forbid"
        or config.get("revalidate_instances", "never") != "never"
        or config.get("from_attributes")
    ):
        return _defer
    build_fields = _node(fields)
    new, setattr_ = cls.__new__, object.__setattr__

    def check(value: Any) -> Any:
        if isinstance(value, cls):
            return value  # pydantic passes an instance through (revalidate_instances=never)
        values, given = build_fields(value)
        built = new(cls)
        setattr_(built, "__dict__", values)
        setattr_(built, "__pydantic_fields_set__", given)
        setattr_(built, "__pydantic_extra__", None)
        setattr_(built, "__pydantic_private__", None)
        return built

    return check


def _model_fields(schema: Mapping[str, Any], refused: frozenset[str] = frozenset()) -> Check:
    """A model's fields; ``refused`` are keys its before validator refuses (derived ones).

    Compiled to one Python function per model, the plain checks written inline: a call per
    field would cost more than pydantic's own validation.
    """
    if schema.get("extras_schema") or schema.get("computed_fields"):
        return _defer
    plan = _FieldsPlan()
    for name, field in schema["fields"].items():
        if set(field) - {"type", "schema", "metadata", "serialization_exclude"}:
            return _defer  # aliases, frozen fields ...: pydantic decides
        if not plan.add(name, field["schema"]):
            return _defer
    env: dict[str, Any] = {
        "Defer": Defer,
        "D": Decimal,
        "Info": _Info,
        "ALLOWED": frozenset(plan.schemas) - refused,
        "REQUIRED": frozenset(plan.required),
        "TEMPLATE": plan.template,
        "MISSING": _MISSING,
    }
    lines = [
        "def fields(value):",
        "    if type(value) is not dict:",
        "        raise Defer",
        "    keys = value.keys()",
        "    # Extra keys are forbidden (the only config _model compiles): pydantic says which.",
        "    if not (keys <= ALLOWED and REQUIRED <= keys):",
        "        raise Defer",
        "    values = TEMPLATE.copy()  # field order, every constant default in place",
        "    get = value.get",
    ]
    for n, (name, value_schema) in enumerate(plan.schemas.items()):
        if name in refused:
            continue
        lines += [f"    x = get({name!r}, MISSING)", "    if x is not MISSING:"]
        lines += _inline(value_schema, env, f"{n}", "        ")
        lines.append(f"        values[{name!r}] = x")
        make = plan.missing.get(name)
        if make is not None:
            env[f"MAKE{n}"] = make
            lines += ["    else:", f"        values[{name!r}] = MAKE{n}()"]
    for n, (name, call, before) in enumerate(plan.after_info):
        env[f"AFTER{n}"], env[f"BEFORE{n}"] = call, before
        test = "True" if name in plan.validate_default else f"{name!r} in value"
        lines += [
            f"    if {test}:",
            f"        prior = {{k: values[k] for k in BEFORE{n}}}",
            f"        values[{name!r}] = AFTER{n}(values[{name!r}], Info(prior, {name!r}))",
        ]
    lines.append("    return values, set(keys)")
    exec("\n".join(lines), env)  # noqa: S102  # our own code, built from the model's schema
    fields: Check = env["fields"]
    return fields


_MISSING = object()


def _inline(schema: Mapping[str, Any], env: dict[str, Any], key: str, pad: str) -> list[str]:
    """Code that checks and converts ``x`` in place (raising Defer), for one field's schema."""
    kind = schema.get("type")
    if kind == "nullable":
        return [f"{pad}if x is not None:", *_inline(schema["schema"], env, key, pad + "    ")]
    check = env[f"C{key}"] = _node(schema)
    if kind == "decimal" and check is not _defer:
        low = schema.get("ge", schema.get("gt"))
        high = schema.get("le", schema.get("lt"))
        env[f"P{key}"] = _plain_number(schema.get("decimal_places"))
        env[f"LO{key}"] = None if low is None else Decimal(low)
        env[f"HI{key}"] = None if high is None else Decimal(high)
        out = []
        if low is not None:
            out.append(f"x {'<=' if 'gt' in schema else '<'} LO{key}")
        if high is not None:
            out.append(f"x {'>=' if 'lt' in schema else '>'} HI{key}")
        # str and int inline; a float, a Decimal or anything else through the full check.
        return [
            f"{pad}t = type(x)",
            f"{pad}if (t is str and P{key}(x)) or t is int:",
            f"{pad}    x = D(x)",
            *([f"{pad}    if {' or '.join(out)}:", f"{pad}        raise Defer"] if out else []),
            f"{pad}else:",
            f"{pad}    x = C{key}(x)",
        ]
    if kind == "bool" and check is not _defer:
        return [f"{pad}if type(x) is not bool:", f"{pad}    raise Defer"]
    if kind == "literal" and check is not _defer:
        env[f"A{key}"] = frozenset(schema["expected"])
        return [f"{pad}if type(x) is not str or x not in A{key}:", f"{pad}    raise Defer"]
    return [f"{pad}x = C{key}(x)"]


class _FieldsPlan:
    """Per field of a model: its value schema, and what an omitted field becomes."""

    def __init__(self) -> None:
        self.schemas: dict[str, Mapping[str, Any]] = {}
        self.template: dict[str, Any] = {}
        self.required: set[str] = set()
        self.missing: dict[str, Callable[[], Any]] = {}
        self.after_info: list[tuple[str, Callable[..., Any], tuple[str, ...]]] = []
        self.validate_default: set[str] = set()

    def add(self, name: str, schema: Mapping[str, Any]) -> bool:
        """Plan one field; False when the field has a shape this module does not compile."""
        default = schema if schema.get("type") == "default" else None
        value_schema = default["schema"] if default is not None else schema
        function = value_schema.get("function", {})
        if value_schema.get("type") == "function-after" and function.get("type") == "with-info":
            before = tuple(self.schemas)
            self.after_info.append((name, function["function"], before))
            value_schema = value_schema["schema"]
        self.schemas[name] = value_schema
        self.template[name] = None
        if default is None:
            self.required.add(name)
            return True
        if set(default) - _DEFAULT_KEYS or default.get("default_factory_takes_data"):
            return False
        factory = default.get("default_factory")
        check = _node(value_schema)
        if default.get("validate_default"):
            self.validate_default.add(name)
            value = default.get("default")
            self.missing[name] = lambda: check(factory() if factory is not None else value)
        elif isinstance(factory, type) and _model_class(value_schema) is factory:
            # Position() validates {}: the compiled check of the same model does it faster.
            self.missing[name] = lambda: check({})
        elif factory is not None:
            self.missing[name] = factory
        else:
            self.template[name] = default["default"]  # pydantic does not copy it either
        return True


_DEFAULT_KEYS = frozenset(
    ("type", "schema", "default", "default_factory", "validate_default", "metadata")
) | {"default_factory_takes_data"}


def _model_class(schema: Mapping[str, Any]) -> Any:
    """The model class a schema builds, through its validator wrappers (None if none)."""
    while schema.get("type") in ("function-after", "function-before"):
        schema = schema["schema"]
    return schema.get("cls") if schema.get("type") == "model" else None


_BUILDERS: dict[str, Callable[[Mapping[str, Any]], Check]] = {
    "bool": _bool,
    "decimal": _decimal,
    "function-after": _function_after,
    "function-before": _function_before,
    "int": _int,
    "literal": _literal,
    "model": _model,
    "model-fields": _model_fields,
    "nullable": _nullable,
    "str": _str,
    "tuple": _tuple,
}
