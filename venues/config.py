"""Runtime configuration (not policies): venues, the state store, audit and alert sinks.

One precedence for every value: command-line flag > environment (``RISKCTL_*``, nested
with ``__``) > config file (YAML) > default, by pydantic-settings. ``sources()`` says which
of them gave each top-level value, so ``riskctl config show --sources`` can print it: a
desk once ran at double its intended position because an override was silently ignored.

API keys and secrets never live in the file: a venue names the environment variables that
hold them (``api_key_env``, ``secret_env``); their values are read when a venue is opened,
and shown nowhere (``show`` prints whether each is set). A ``base_url`` override is only
accepted for ``http://127.0.0.1:PORT`` (a mock exchange).
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from riskctl.errors import Diagnostic, Location
from riskctl.venues.base_url import BaseUrlError, loopback_base
from riskctl.venues.ccxt_venue import CcxtVenueConfig
from riskctl.yamlio import LoadedYaml, read_yaml

__all__ = ["ConfigError", "RiskctlConfig", "VenueSettings", "load_config", "order_rate_for"]

ENV_PREFIX = "RISKCTL_"
# What one load_config call reads, handed to the settings sources below (not os.environ:
# a caller, a test, passes its own environment).
_LAYERS: contextvars.ContextVar[tuple[Mapping[str, str], dict[str, Any]]] = contextvars.ContextVar(
    "riskctl_config_layers"
)


class _Environment(EnvSettingsSource):
    """RISKCTL_* variables from the environment load_config was given."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = _LAYERS.get()[0]  # names are case-insensitive, as pydantic-settings reads them
        return {name.lower(): value for name, value in env.items()}


class _File(PydanticBaseSettingsSource):
    """The config file's values: below flags and the environment."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ answers for all fields at once

    def __call__(self) -> dict[str, Any]:
        return dict(_LAYERS.get()[1])


class VenueSettings(BaseModel):
    """One account at one venue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Venue id as policies name it, e.g. binance.")
    exchange: str = Field(description="ccxt exchange id, e.g. binance.")
    account: str | None = Field(default=None, description="Account name (for reports).")
    sandbox: bool = Field(default=False, description="Use the venue's testnet.")
    api_key_env: str | None = Field(default=None, description="Env variable with the API key.")
    secret_env: str | None = Field(default=None, description="Env variable with the secret.")
    base_url: str | None = Field(default=None, description="http://127.0.0.1:PORT only.")
    rate_per_s: float | None = Field(default=None, gt=0, description="Request weight per s.")
    burst: float | None = Field(default=None, gt=0, description="Bucket capacity.")
    headroom_pct: float = Field(default=10.0, ge=0, lt=100, description="Kept below the limit.")
    orders_per_second: int | None = Field(default=None, gt=0, description="Order messages/s.")
    timeout_ms: int = Field(default=10_000, gt=0, description="Per-request timeout.")
    options: dict[str, Any] = Field(default_factory=dict, description="ccxt options.")

    @field_validator("base_url")
    @classmethod
    def _loopback(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return loopback_base(value)
        except BaseUrlError as exc:
            raise ValueError(str(exc)) from None

    def ccxt_config(self, environ: Mapping[str, str] | None = None) -> CcxtVenueConfig:
        """The adapter's settings with the credentials read from the named variables."""
        env = os.environ if environ is None else environ
        key = secret = None
        for name, label in ((self.api_key_env, "api_key_env"), (self.secret_env, "secret_env")):
            if name is not None and not env.get(name):
                raise ConfigError(
                    [
                        _diag(
                            "config.missing-secret",
                            f"venue {self.id}: {label} names {name},"
                            " which is not set in the environment",
                            "environment",
                        )
                    ]
                )
        if self.api_key_env is not None:
            key = env[self.api_key_env]
        if self.secret_env is not None:
            secret = env[self.secret_env]
        return CcxtVenueConfig(
            venue_id=self.id,
            exchange=self.exchange,
            api_key=key,
            secret=secret,
            sandbox=self.sandbox,
            base_url=self.base_url,
            rate_per_s=self.rate_per_s,
            burst=self.burst,
            headroom_pct=self.headroom_pct,
            order_rate=order_rate_for(self.orders_per_second),
            timeout_ms=self.timeout_ms,
            options=self.options,
        )


class RiskctlConfig(BaseSettings):
    """Everything ``riskctl run --config`` needs besides the policies' contents."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    policies: Path = Field(default=Path("policies"), description="Policy directory.")
    state: Path | None = Field(default=None, description="SQLite state file.")
    memory: bool = Field(default=False, description="Keep state in memory (tests, replay).")
    alerts: Path | None = Field(default=None, description="Alert events, JSON Lines.")
    cancel_deadline_s: float = Field(default=10.0, gt=0, description="Cancel-all deadline.")
    venues: list[VenueSettings] = Field(default_factory=list, description="Venue accounts.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, _Environment(settings_cls), _File(settings_cls))

    def venue(self, venue_id: str) -> VenueSettings:
        for venue in self.venues:
            if venue.id == venue_id:
                return venue
        known = ", ".join(v.id for v in self.venues) or "none"
        raise ConfigError(
            [_diag("config.unknown-venue", f"no venue {venue_id!r}; configured: {known}", "")]
        )

    def shown(
        self, sources: Mapping[str, str], environ: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Every effective value with the source that won; credentials as set/unset only."""
        env = os.environ if environ is None else environ
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name == "venues":
                value = [_venue_shown(v, env) for v in self.venues]
            elif isinstance(value, Path):
                value = str(value)
            out[name] = {"value": value, "source": sources.get(name, "default")}
        return out


def order_rate_for(per_second: int | None) -> tuple[int, float] | None:
    """The limiter's order window for "N orders a second", as the venue counts them.

    A venue counts arrivals, and arrivals jitter after the limiter grants them: a whole
    second's allowance granted at once, then the next, was measured arriving as 180 in one
    second against a limit of 100. So N a second is enforced as N/10 per 110 ms: any span
    of 1.1 s (a second plus up to 100 ms of jitter) holds at most 10 such windows, so the
    venue sees at most N in any second of its clock; the price is ~9% of the rate.
    """
    if per_second is None:
        return None
    if per_second < 10:
        return (per_second, 1.1)
    return (per_second // 10, 0.11)


def _venue_shown(venue: VenueSettings, env: Mapping[str, str]) -> dict[str, Any]:
    data = venue.model_dump(mode="json")
    for field in ("api_key_env", "secret_env"):
        name = data.get(field)
        if name is not None:
            data[field] = f"{name} ({'set' if env.get(name) else 'NOT SET'})"
    return data


class ConfigError(Exception):
    """The configuration was refused: every problem, each located."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(d.format() for d in diagnostics))
        self.diagnostics = diagnostics


def _diag(code: str, message: str, where: str, line: int = 1, column: int = 1) -> Diagnostic:
    return Diagnostic(code, message, Location(where or "config", line, column, ""))


def load_config(
    file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[RiskctlConfig, dict[str, str]]:
    """The effective configuration and, per top-level field, the source that gave it.

    Paths in the file are relative to the file's directory. Raises ConfigError, located
    (file:line:col for file values, the variable for environment values).
    """
    env = dict(os.environ if environ is None else environ)
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    loaded, from_file = _file_values(file)
    from_env = _env_values(env)
    sources = {}
    for name in RiskctlConfig.model_fields:
        if name in given:
            sources[name] = "flag"
        elif name in from_env:
            sources[name] = f"environment ({ENV_PREFIX}{name.upper()})"
        elif name in from_file:
            sources[name] = f"file ({file})"
    try:
        token = _LAYERS.set((env, from_file))
        try:
            config = RiskctlConfig(**given)
        finally:
            _LAYERS.reset(token)
    except ValidationError as exc:
        raise ConfigError(_located(exc, loaded, sources)) from None
    return config, sources


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    prefix = ENV_PREFIX.lower()
    names = {k.lower() for k in env if k.lower().startswith(prefix)}
    return {
        name: True
        for name in RiskctlConfig.model_fields
        if any(n == prefix + name or n.startswith(f"{prefix}{name}__") for n in names)
    }


def _file_values(file: Path | None) -> tuple[LoadedYaml | None, dict[str, Any]]:
    if file is None:
        return None, {}
    loaded, problems = read_yaml(file, empty="the config file is empty")
    if loaded is None:
        raise ConfigError(problems)
    if not isinstance(loaded.data, dict):
        raise ConfigError(
            [_diag("config.not-a-mapping", "the config must be a mapping", str(file))]
        )
    values = dict(loaded.data)
    base = file.parent
    for name in ("policies", "state", "alerts"):
        if isinstance(values.get(name), str) and not Path(values[name]).is_absolute():
            values[name] = os.path.normpath(base / values[name])
    return loaded, values


def _located(
    exc: ValidationError, loaded: LoadedYaml | None, sources: Mapping[str, str]
) -> list[Diagnostic]:
    out = []
    for error in exc.errors():
        path = [p for p in error["loc"] if isinstance(p, (str, int))]
        field = str(path[0]) if path else ""
        source = sources.get(field, "default")
        message = f"{'.'.join(map(str, path)) or 'config'}: {error['msg']}"
        if loaded is not None and source.startswith("file"):
            location = loaded.location(path)
            out.append(Diagnostic("config.invalid", message, location))
        else:
            out.append(_diag("config.invalid", message, source))
    return out
