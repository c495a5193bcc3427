"""The configuration file: the documented example loads, and every mistake is refused by name."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import ConfigError, load

EXAMPLE = Path(__file__).parents[2] / "docs" / "bot.example.toml"
MINIMAL = """
[venue]
name = "bybit"
api_key_env = "K"
api_secret_env = "S"

[[symbol]]
name = "GIGA/USDT:USDT"
max_qty = 1000
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text)
    return path


def test_the_documented_example_loads() -> None:
    config = load(EXAMPLE, environ={})

    assert (config.venue.name, config.venue.rest_url, config.venue.api_key) == ("bybit", "http://127.0.0.1:8765",
                                                                             "harness-key")
    assert config.database == EXAMPLE.parent / "bot.sqlite3"
    assert [s.name for s in config.symbols] == ["GIGA/USDT:USDT", "BTC/USDT:USDT"]
    assert config.symbol("BTC/USDT:USDT").stop_fraction == Decimal("0.02")  # the [risk] default
    assert (config.sync_interval_s, config.sync_settle_s, config.max_open_positions) == (30.0, 5.0, 1)


def test_keys_come_from_the_environment_and_defaults_fill_the_rest(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL), environ={"K": "key", "S": "secret"})

    assert (config.venue.api_key, config.venue.api_secret, config.venue.rest_url) == ("key", "secret", None)
    assert (config.client_prefix, config.seed, config.symbol("GIGA/USDT:USDT").max_qty) == ("hb", None, Decimal(1000))


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        (MINIMAL + "\n[bot]\ndatabse = 'x'\n", {"K": "k", "S": "s"}, "[bot]: unknown key(s) ['databse']"),
        (MINIMAL.replace("max_qty = 1000", "max_qty = 1000\nsize = 3"), {"K": "k", "S": "s"},
         "[symbol] #1: unknown key(s) ['size']"),
        (MINIMAL + "\n[strategy]\n", {"K": "k", "S": "s"}, "unknown key(s) ['strategy']"),
        (MINIMAL, {"K": "k"}, "the environment has no S; export it"),
        (MINIMAL.replace('name = "bybit"', 'name = "kraken"'), {"K": "k", "S": "s"}, "must be one of ['bybit', 'binance']"),
        (MINIMAL.replace("max_qty = 1000", "max_qty = 'lots'"), {"K": "k", "S": "s"}, "'lots': not a number"),
        (MINIMAL.replace("max_qty = 1000", "max_qty = 1\nstop_fraction = 1.5"), {"K": "k", "S": "s"},
         "0 < stop_fraction < 1"),
        (MINIMAL + "\n[bot]\nclient_prefix = 'hb-'\n", {"K": "k", "S": "s"}, "use 1 to 8 letters or digits"),
        ("[venue\n", {}, "not valid TOML"),
    ],
    ids=["misspelt-key", "unknown-symbol-key", "unknown-section", "missing-env", "unknown-venue", "not-a-number",
         "stop-out-of-range", "bad-prefix", "bad-toml"],
)
def test_mistakes_are_refused_with_the_key_and_the_fix(tmp_path: Path, text: str, environ: dict[str, str],
                                                       message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), environ=environ)
    assert message in str(caught.value)
    assert str(tmp_path / "bot.toml") in str(caught.value)


def test_a_missing_file_says_where_to_look(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file; see docs/bot.md"):
        load(tmp_path / "absent.toml")


def test_an_unconfigured_symbol_is_refused_with_the_fix(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL), environ={"K": "k", "S": "s"})
    with pytest.raises(ConfigError, match=r"add a \[\[symbol\]\] table"):
        config.symbol("BTC/USDT:USDT")


@pytest.mark.parametrize(("extra", "message"), [
    ("\n[intervals]\nsync_s = 0\n", "sync_s must be > 0"),
    ("\n[risk]\nmax_open_positions = 0\n", "must be at least 1"),
])
def test_intervals_and_limits_that_cannot_work_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(write(tmp_path, MINIMAL + extra), environ={"K": "k", "S": "s"})


@pytest.mark.parametrize(("extra", "message"), [
    ("\n[intervals]\nsync_s = inf\n", "sync_s must be > 0"),
    ("\n[intervals]\nsync_settle_s = nan\n", "sync_s must be > 0"),
])
def test_infinite_or_undefined_intervals_are_refused(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(write(tmp_path, MINIMAL + extra), environ={"K": "k", "S": "s"})


def test_a_quoted_boolean_is_refused_not_read_as_true(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "bybit"', 'name = "bybit"\ntestnet = "false"')
    with pytest.raises(ConfigError, match="write true or false, without quotes"):
        load(write(tmp_path, text), environ={"K": "k", "S": "s"})
