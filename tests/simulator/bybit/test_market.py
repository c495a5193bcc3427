from __future__ import annotations

import asyncio
from typing import Any

import ccxt
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


async def test_klines_are_built_from_the_venues_own_prices_and_fills(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.load_markets()
    listed = bybit_venue.engine.now_ms()
    await asyncio.sleep(60 - listed % 60_000 / 1000 + 30)  # half-way into the next minute
    bybit_venue.engine.set_price("BTCUSDT", "60100.0")
    await bybit_rest.create_order("BTC/USDT:USDT", "market", "buy", 0.01)  # at 60100
    await asyncio.sleep(10)
    bybit_venue.engine.set_price("BTCUSDT", "59900.0")
    await asyncio.sleep(60)

    candles = await bybit_rest.fetch_ohlcv("BTC/USDT:USDT", "1m", limit=3)
    raw = await bybit_rest.public_get_v5_market_kline({"category": "linear", "symbol": "BTCUSDT", "interval": "1",
                                                       "limit": "2"})

    listed_minute = listed - listed % 60_000
    assert candles == [
        [listed_minute, 60000.0, 60000.0, 60000.0, 60000.0, 0.0],  # listed: flat, nothing traded
        [listed_minute + 60_000, 60000.0, 60100.0, 59900.0, 59900.0, 0.01],
        [listed_minute + 120_000, 59900.0, 59900.0, 59900.0, 59900.0, 0.0],  # the current minute
    ]
    assert [row[0] for row in raw["result"]["list"]] == [str(listed_minute + 120_000), str(listed_minute + 60_000)]
    assert raw["result"]["list"][1][5:] == ["0.01", "601"]  # volume and turnover, newest first
    since = await bybit_rest.fetch_ohlcv("BTC/USDT:USDT", "1m", since=listed_minute + 60_000, limit=1)
    assert since == candles[1:2]
    uncategorized = await bybit_rest.public_get_v5_market_kline({"symbol": "BTCUSDT", "interval": "1", "limit": "2"})
    assert uncategorized["result"]["list"] == raw["result"]["list"]  # linear by default, as Bybit documents
    with pytest.raises(ccxt.BadRequest, match="doesn't \\(yet\\) support interval=M"):
        await bybit_rest.fetch_ohlcv("BTC/USDT:USDT", "1M")


async def test_the_book_shows_the_spread_and_resting_orders_and_the_ticker_its_top(bybit_venue: RunningVenue,
                                                                                   bybit_rest: Any) -> None:
    nominal = float(bybit_venue.engine.instrument("ETHUSDT").max_market_qty)
    await bybit_rest.create_order("ETH/USDT:USDT", "limit", "sell", 2, 3000.02)

    book = await bybit_rest.fetch_order_book("ETH/USDT:USDT", 3)
    ticker = await bybit_rest.fetch_ticker("ETH/USDT:USDT")

    assert book["asks"] == [[3000.0, nominal], [3000.01, nominal], [3000.02, nominal + 2]]
    assert book["bids"] == [[2999.99, nominal], [2999.98, nominal], [2999.97, nominal]]
    assert (ticker["bid"], ticker["bidVolume"], ticker["ask"], ticker["askVolume"]) == (2999.99, nominal, 3000.0, nominal)
    status, body = await rawhttp.get(bybit_venue, "/v5/market/orderbook",
                                     {"category": "linear", "symbol": "ETHUSDT", "limit": "501"}, signed=False)
    assert (status, body["retCode"]) == (200, 10001), body
    _, body = await rawhttp.get(bybit_venue, "/v5/market/orderbook", {"category": "linear", "symbol": "ETHUSDT"},
                                signed=False)
    assert len(body["result"]["b"]) == len(body["result"]["a"]) == 25  # Bybit's default for linear
    before = body["result"]["u"]
    bybit_venue.engine.set_price("ETHUSDT", "3000.01")
    _, body = await rawhttp.get(bybit_venue, "/v5/market/orderbook", {"category": "linear", "symbol": "ETHUSDT"},
                                signed=False)
    assert body["result"]["u"] > before and body["result"]["a"][0] == ["3000.01", f"{nominal:.2f}"]


async def test_the_tickers_24h_figures_roll_with_the_day(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await asyncio.sleep(1)
    bybit_venue.engine.set_price("ETHUSDT", "3300.00")
    await bybit_rest.create_order("ETH/USDT:USDT", "market", "buy", 1)
    await asyncio.sleep(3600)
    bybit_venue.engine.set_price("ETHUSDT", "2900.00")
    info = (await bybit_rest.fetch_ticker("ETH/USDT:USDT"))["info"]
    assert (info["prevPrice24h"], info["highPrice24h"], info["lowPrice24h"], info["prevPrice1h"]) == \
        ("3000.00", "3300.00", "2900.00", "3300.00")
    assert (info["volume24h"], info["turnover24h"], info["price24hPcnt"]) == ("1", "3300", "-0.033333")

    await asyncio.sleep(86_400)
    info = (await bybit_rest.fetch_ticker("ETH/USDT:USDT"))["info"]
    assert (info["prevPrice24h"], info["highPrice24h"], info["lowPrice24h"], info["volume24h"]) == \
        ("2900.00", "2900.00", "2900.00", "0")


async def test_leverage_tiers_are_the_engines_margin_model_on_pages_ccxt_follows(bybit_venue: RunningVenue,
                                                                               bybit_rest: Any) -> None:
    tiers = await bybit_rest.fetch_leverage_tiers()
    [giga] = await bybit_rest.fetch_market_leverage_tiers("GIGA/USDT:USDT")

    assert sorted(tiers) == ["BTC/USDT:USDT", "ETH/USDT:USDT", "GIGA/USDT:USDT"]
    assert (giga["minNotional"], giga["maxNotional"], giga["maintenanceMarginRate"], giga["maxLeverage"]) == \
        (0.0, 100_000_000.0, 0.005, 25.0)
    assert giga["info"]["initialMargin"] == "0.04"
    _, body = await rawhttp.get(bybit_venue, "/v5/market/risk-limit", {"category": "linear"}, signed=False)
    assert (len(body["result"]["list"]), body["result"]["nextPageCursor"]) == (3, "")  # one page, no cursor after it


async def test_ccxt_sweeps_every_risk_limit_page_once(simulation: Any) -> None:
    from decimal import Decimal

    from simulator.engine.instruments import linear_perpetual
    from simulator.server import bybit_engine, serve_bybit

    engine = bybit_engine(clock=simulation.clock, seed=1)
    for n in range(17):  # 20 listed: two pages of 15
        engine.add_instrument(linear_perpetual(f"C{n:02d}USDT", tick="0.01", step="1", min_qty="1", max_qty="1000",
                                               max_market_qty="100", max_leverage="50"), Decimal("1.00"))
    async with serve_bybit(engine=engine) as venue:
        rest = venue.rest_client()
        tiers = await rest.fetch_leverage_tiers()
        _, first = await rawhttp.get(venue, "/v5/market/risk-limit", {"category": "linear"}, signed=False)
        _, second = await rawhttp.get(venue, "/v5/market/risk-limit",
                                      {"category": "linear", "cursor": first["result"]["nextPageCursor"]}, signed=False)
        await rest.close()
    assert len(tiers) == 20 and all(len(t) == 1 for t in tiers.values())
    assert (len(first["result"]["list"]), len(second["result"]["list"])) == (15, 5)
    assert second["result"]["nextPageCursor"] == ""


async def test_mark_and_index_candles_follow_the_price_without_volume(bybit_venue: RunningVenue,
                                                                      bybit_rest: Any) -> None:
    await asyncio.sleep(60 - bybit_venue.engine.now_ms() % 60_000 / 1000)
    bybit_venue.engine.set_price("ETHUSDT", "3050.00")
    await bybit_rest.create_order("ETH/USDT:USDT", "market", "buy", 1)
    mark = await bybit_rest.fetch_mark_ohlcv("ETH/USDT:USDT", "1m", limit=2)
    index = await bybit_rest.fetch_index_ohlcv("ETH/USDT:USDT", "1m", limit=2)
    trades = await bybit_rest.fetch_ohlcv("ETH/USDT:USDT", "1m", limit=2)
    assert [c[:5] for c in mark] == [c[:5] for c in index] == [c[:5] for c in trades]
    assert mark[-1][1:5] == [3050.0, 3050.0, 3050.0, 3050.0] and trades[-1][5] == 1.0
    assert all(c[5] is None for c in mark)  # no volume in a price candle
