"""ccxt's unified dicts read into the bot's reports, checked on what ccxt parsed from real venue answers
(``tests/fixtures/``: ccxt's own recorded request/response pairs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.adapters.binance import BinanceVenue
from bot.adapters.bybit import BybitVenue
from bot.adapters.ccxt_reports import position_report
from bot.values import Side

FIXTURES = Path(__file__).parent.parent / "fixtures"


def _parsed_positions(name: str) -> list[dict[str, Any]]:
    [case] = json.loads((FIXTURES / name).read_text())["methods"]["fetchPositions"][:1]
    return list(case["parsedResponse"])


def test_a_bybit_position_is_dated_by_its_update_not_its_creation() -> None:
    [parsed] = _parsed_positions("bybit_linear_subset.json")
    assert (parsed["info"]["createdTime"], parsed["info"]["updatedTime"]) == ("1677168085779", "1699948800031")

    report = position_report(parsed, BybitVenue._position_updated)

    assert report is not None and (report.side, report.updated_ms) == (Side.LONG, 1699948800031)


def test_a_bybit_position_without_its_update_time_has_none_rather_than_its_creation() -> None:
    # Read as an update, the creation time makes a changed position look older than it is to the
    # lagging-list rules (a report "last changed before" the bot's close or its stop's fill).
    [parsed] = _parsed_positions("bybit_linear_subset.json")
    parsed = {**parsed, "lastUpdateTimestamp": None}

    report = position_report(parsed, BybitVenue._position_updated)

    assert report is not None and report.updated_ms is None


def test_a_binance_position_is_dated_by_its_update_time() -> None:
    [parsed] = _parsed_positions("binance_usdm_subset.json")
    assert parsed["info"]["updateTime"] == "1722161166529" and parsed.get("lastUpdateTimestamp") is None

    report = position_report(parsed, BinanceVenue._position_updated)

    assert report is not None and (report.side, report.updated_ms) == (Side.LONG, 1722161166529)
