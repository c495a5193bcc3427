from __future__ import annotations

from typing import Any

import pytest

from simulator.server import RunningVenue
from tests.simulator.bybit import rawhttp

pytestmark = pytest.mark.virtual_time

ENVELOPE = {"retCode", "retMsg", "result", "retExtInfo", "time"}


async def test_load_markets_with_default_options_lists_the_catalogue(bybit_rest: Any) -> None:
    markets = await bybit_rest.load_markets()
    assert sorted(markets) == ["BTC/USDT:USDT", "ETH/USDT:USDT", "GIGA/USDT:USDT"]
    giga = markets["GIGA/USDT:USDT"]
    assert (giga["type"], giga["linear"], giga["settle"], giga["active"]) == ("swap", True, "USDT", True)
    assert (giga["precision"]["amount"], giga["precision"]["price"]) == (1.0, 0.00001)
    assert giga["limits"]["amount"]["min"] == 1.0
    assert giga["limits"]["cost"]["min"] == 5.0
    assert giga["limits"]["leverage"]["max"] == 25.0
    assert bybit_rest.markets["BTC/USDT:USDT"]["precision"]["price"] == 0.1


async def test_instruments_info_answers_every_category_ccxt_asks_for(bybit_venue: RunningVenue) -> None:
    for params, expected in [
        ({"category": "linear", "limit": 1000}, 3),
        ({"category": "linear", "limit": 1000, "status": "PreLaunch"}, 0),
        ({"category": "linear", "symbol": "ETHUSDT"}, 1),
        ({"category": "inverse", "limit": 1000}, 0),
        ({"category": "option", "baseCoin": "BTC"}, 0),
        ({"category": "spot"}, 0),
    ]:
        status, body = await rawhttp.get(bybit_venue, "/v5/market/instruments-info", params, signed=False)
        assert status == 200 and set(body) == ENVELOPE and body["retCode"] == 0, body
        assert body["result"]["category"] == params["category"]
        assert len(body["result"]["list"]) == expected, params
        if params["category"] != "spot":
            assert body["result"]["nextPageCursor"] == ""


async def test_server_time_comes_from_the_venue_clock(bybit_venue: RunningVenue) -> None:
    _, body = await rawhttp.get(bybit_venue, "/v5/market/time", signed=False)
    assert abs(int(body["result"]["timeSecond"]) * 1000 - body["time"]) < 1000
    assert int(body["result"]["timeNano"]) // 1_000_000 <= body["time"]


async def test_fetch_ticker_follows_price_moves(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    ticker = await bybit_rest.fetch_ticker("ETH/USDT:USDT")
    assert (ticker["last"], ticker["markPrice"]) == (3000.0, 3000.0)
    bybit_venue.engine.set_price("ETHUSDT", "3150.5")
    ticker = await bybit_rest.fetch_ticker("ETH/USDT:USDT")
    assert (ticker["last"], ticker["high"], ticker["low"]) == (3150.5, 3150.5, 3000.0)
    assert ticker["percentage"] == 5.0167
