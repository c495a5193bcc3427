"""The bot's configuration file (TOML), read into frozen values; unknown keys are refused by name.

    [venue]
    name = "bybit"
    rest_url = "http://127.0.0.1:8765"   # omit for the real venue
    api_key_env = "BOT_API_KEY"          # or api_key = "..." (fine for a simulator, not for real keys)
    api_secret_env = "BOT_API_SECRET"

    [bot]
    database = "bot.sqlite3"

    [[symbol]]
    name = "GIGA/USDT:USDT"
    max_qty = "1000"

``docs/bot.md`` documents every key.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

VENUES = ("bybit", "binance")


class ConfigError(ValueError):
    """The configuration file is wrong; the message names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class VenueConfig:
    name: str
    api_key: str
    api_secret: str
    rest_url: str | None
    ws_url: str | None
    testnet: bool


@dataclass(frozen=True, slots=True)
class SymbolConfig:
    name: str  # ccxt unified symbol, e.g. "GIGA/USDT:USDT"
    max_qty: Decimal
    stop_fraction: Decimal


@dataclass(frozen=True, slots=True)
class BotConfig:
    venue: VenueConfig
    database: Path
    client_prefix: str
    seed: int | None
    symbols: tuple[SymbolConfig, ...]
    max_open_positions: int
    default_stop_fraction: Decimal
    sync_interval_s: float
    sync_settle_s: float

    def symbol(self, name: str) -> SymbolConfig:
        for symbol in self.symbols:
            if symbol.name == name:
                return symbol
        listed = [s.name for s in self.symbols]
        raise ConfigError(f"{name!r} is not a configured symbol ({listed}); add a [[symbol]] table for it")


_SECTIONS = {
    "venue": {"name", "rest_url", "ws_url", "testnet", "api_key", "api_secret", "api_key_env", "api_secret_env"},
    "bot": {"database", "client_prefix", "seed"},
    "risk": {"max_open_positions", "stop_fraction"},
    "intervals": {"sync_s", "sync_settle_s"},
    "symbol": {"name", "max_qty", "stop_fraction"},
}


def load(path: str | Path, environ: Mapping[str, str] | None = None) -> BotConfig:
    """Read and check the file at ``path``; key and secret may come from ``environ`` (default: the process's)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file; see docs/bot.md for an example") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return parse(raw, where=str(path), environ=os.environ if environ is None else environ, base=path.parent)


def parse(raw: Mapping[str, Any], *, where: str, environ: Mapping[str, str], base: Path) -> BotConfig:
    _known(raw, set(_SECTIONS), where)
    for section, keys in _SECTIONS.items():
        tables = raw.get(section, [] if section == "symbol" else {})
        for n, table in enumerate(tables if isinstance(tables, list) else [tables]):
            if not isinstance(table, dict):
                raise ConfigError(f"{where}: [{section}] must be a table")
            _known(table, keys, f"{where} [{section}]" + (f" #{n + 1}" if section == "symbol" else ""))
    venue_t, bot_t = raw.get("venue", {}), raw.get("bot", {})
    risk_t, intervals_t = raw.get("risk", {}), raw.get("intervals", {})
    name = venue_t.get("name")
    if name not in VENUES:
        raise ConfigError(f"{where} [venue] name = {name!r}: must be one of {list(VENUES)}")
    testnet = venue_t.get("testnet", False)
    if not isinstance(testnet, bool):
        raise ConfigError(f"{where} [venue] testnet = {testnet!r}: write true or false, without quotes")
    venue = VenueConfig(
        name=name,
        api_key=_secret(venue_t, "api_key", where, environ),
        api_secret=_secret(venue_t, "api_secret", where, environ),
        rest_url=venue_t.get("rest_url"),
        ws_url=venue_t.get("ws_url"),
        testnet=testnet,
    )
    default_stop = _decimal(risk_t.get("stop_fraction", "0.02"), f"{where} [risk] stop_fraction")
    symbols = tuple(
        SymbolConfig(
            name=_required(t, "name", f"{where} [[symbol]]"),
            max_qty=_decimal(_required(t, "max_qty", f"{where} [[symbol]]"), f"{where} [[symbol]] max_qty"),
            stop_fraction=_decimal(t.get("stop_fraction", default_stop), f"{where} [[symbol]] stop_fraction"),
        )
        for t in raw.get("symbol", [])
    )
    for symbol in symbols:
        if not 0 < symbol.stop_fraction < 1 or symbol.max_qty <= 0:
            raise ConfigError(f"{where}: symbol {symbol.name!r} needs max_qty > 0 and 0 < stop_fraction < 1")
    prefix = str(bot_t.get("client_prefix", "hb"))
    if not prefix.isalnum() or len(prefix) > 8:
        raise ConfigError(f"{where} [bot] client_prefix = {prefix!r}: use 1 to 8 letters or digits")
    seed = bot_t.get("seed")
    sync_s, settle_s = float(intervals_t.get("sync_s", 30)), float(intervals_t.get("sync_settle_s", 5))
    if not (math.isfinite(sync_s) and math.isfinite(settle_s)) or sync_s <= 0 or settle_s < 0:
        raise ConfigError(f"{where} [intervals]: sync_s must be > 0 and sync_settle_s >= 0, got {sync_s} and {settle_s}")
    max_open = int(risk_t.get("max_open_positions", 1))
    if max_open < 1:
        raise ConfigError(f"{where} [risk] max_open_positions = {max_open}: must be at least 1")
    return BotConfig(
        venue=venue,
        database=base / str(bot_t.get("database", "bot.sqlite3")),
        client_prefix=prefix,
        seed=int(seed) if seed is not None else None,
        symbols=symbols,
        max_open_positions=max_open,
        default_stop_fraction=default_stop,
        sync_interval_s=sync_s,
        sync_settle_s=settle_s,
    )


def _known(table: Mapping[str, Any], keys: set[str], where: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(keys)}")


def _required(table: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: {key!r} is required")
    return table[key]


def _decimal(value: Any, where: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where} = {value!r}: not a number") from None
    if not number.is_finite():
        raise ConfigError(f"{where} = {value!r}: not a finite number")
    return number


def _secret(table: Mapping[str, Any], key: str, where: str, environ: Mapping[str, str]) -> str:
    if key in table:
        return str(table[key])
    env = table.get(f"{key}_env")
    if env is None:
        raise ConfigError(f"{where} [venue]: set {key} = \"...\" or {key}_env = \"ENV_VAR_NAME\"")
    if env not in environ:
        raise ConfigError(f"{where} [venue] {key}_env = {env!r}, but the environment has no {env}; export it")
    return environ[env]
