"""Binance's public market data through unmodified ccxt: the 24 h ticker, the best bid and ask, the book."""

from __future__ import annotations

import asyncio

import aiohttp
import ccxt
import pytest

from simulator.server import RunningBinance

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"
DAY_S = 86_400


async def test_the_24h_ticker_rolls_over_the_venues_own_prices_and_fills(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    await asyncio.sleep(1)
    binance_venue.engine.set_price("BTCUSDT", "61000.0")
    await rest.create_order(BTC, "market", "buy", 0.01)
    [trade] = await rest.fetch_my_trades(BTC)
    binance_venue.engine.set_price("BTCUSDT", "59000.0")

    ticker = await rest.fetch_ticker(BTC)
    raw = await rest.fapiPublicGetTicker24hr({"symbol": "BTCUSDT"})

    assert (ticker["open"], ticker["high"], ticker["low"], ticker["last"]) == (60000.0, 61000.0, 59000.0, 59000.0)
    assert (ticker["baseVolume"], ticker["quoteVolume"], ticker["vwap"]) == (0.01, 610.0, 61000.0)
    assert ticker["percentage"] == pytest.approx(-1.667)
    assert set(raw) == {"symbol", "priceChange", "priceChangePercent", "weightedAvgPrice", "lastPrice", "lastQty",
                        "openPrice", "highPrice", "lowPrice", "volume", "quoteVolume", "openTime", "closeTime",
                        "firstId", "lastId", "count"}
    assert (raw["priceChange"], raw["priceChangePercent"], raw["lastQty"], raw["count"]) == ("-1000.0", "-1.667", "0.010", 1)
    assert raw["firstId"] == raw["lastId"] == int(trade["id"])
    assert raw["closeTime"] - raw["openTime"] == DAY_S * 1000

    await asyncio.sleep(DAY_S)  # a day later the move and the fill have left the window
    ticker = await rest.fetch_ticker(BTC)
    assert (ticker["open"], ticker["high"], ticker["low"], ticker["baseVolume"]) == (59000.0, 59000.0, 59000.0, 0.0)
    raw = await rest.fapiPublicGetTicker24hr({"symbol": "BTCUSDT"})
    assert (raw["firstId"], raw["lastId"], raw["count"]) == (-1, -1, 0)
    every = await rest.fetch_tickers()
    assert sorted(every) == sorted(rest.markets)


async def test_the_book_and_its_top_show_resting_orders_at_their_prices(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    nominal = float(binance_venue.engine.instrument("BTCUSDT").max_market_qty)
    await rest.create_order(BTC, "limit", "buy", 0.5, 59999.9)

    book = await rest.fetch_order_book(BTC, 5)
    top = (await rest.fetch_bids_asks([BTC]))[BTC]

    assert book["bids"][:2] == [[59999.9, nominal + 0.5], [59999.8, nominal]]
    assert book["asks"][:2] == [[60000.0, nominal], [60000.1, nominal]]
    assert (top["bid"], top["bidVolume"], top["ask"], top["askVolume"]) == (59999.9, nominal + 0.5, 60000.0, nominal)
    with pytest.raises(ccxt.BadRequest, match="-1130"):
        await rest.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 7})
    with pytest.raises(ccxt.BadSymbol):
        await rest.fapiPublicGetDepth({"symbol": "NOPEUSDT"})
    async with aiohttp.ClientSession() as session:  # ccxt's own limiter cannot weigh a text limit: send it raw
        async with session.get(f"{binance_venue.base_url}/fapi/v1/depth", params={"symbol": "BTCUSDT",
                                                                                  "limit": "\u00b2"}) as answer:
            assert (answer.status, (await answer.json())["code"]) == (400, -1100)  # not a limit, nor a weight


async def test_what_a_bot_reads_at_startup_matches_the_engine(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    await rest.set_leverage(7, BTC)

    leverage = await rest.fetch_leverage(BTC)
    mode = await rest.fetch_margin_mode(BTC)
    fees = await rest.fetch_trading_fees()
    tiers = await rest.fetch_market_leverage_tiers(BTC)
    multi = await rest.fapiPrivateGetMultiAssetsMargin()

    assert (leverage["longLeverage"], leverage["marginMode"], mode["marginMode"]) == (7, "cross", "cross")
    inst = binance_venue.engine.instrument("BTCUSDT")
    # ccxt takes the rates from its own table for the tier told (0: 0.02% / 0.04%); commissionRate has the real ones.
    assert fees[BTC]["info"] == {"feeTier": 0} and fees[BTC]["maker"] == float(inst.maker_fee_rate)
    [tier] = tiers
    assert (tier["maintenanceMarginRate"], tier["maxLeverage"]) == (0.005, float(inst.max_leverage))
    assert multi == {"multiAssetsMargin": False}


async def test_public_trades_are_the_venues_fills_numbered_in_order_per_symbol(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    await rest.create_order(BTC, "market", "buy", 0.01)
    await rest.create_order("ETH/USDT:USDT", "market", "buy", 1)  # another symbol's trade in between
    await asyncio.sleep(1)
    binance_venue.engine.set_price("BTCUSDT", "60100.0")
    await rest.create_order(BTC, "market", "sell", 0.02)
    mine = await rest.fetch_my_trades(BTC)

    public = await rest.fetch_trades(BTC)  # ccxt reads aggTrades: ids are the aggregate ids
    agg = await rest.fapiPublicGetAggTrades({"symbol": "BTCUSDT"})
    recent = await rest.fapiPublicGetTrades({"symbol": "BTCUSDT"})
    day = await rest.fapiPublicGetTicker24hr({"symbol": "BTCUSDT"})

    assert [(t["side"], t["amount"], t["price"]) for t in public] == [("buy", 0.01, 60000.0), ("sell", 0.02, 60100.0)]
    assert [r["id"] for r in recent] == [int(t["id"]) for t in mine] == [a["f"] for a in agg] == [a["l"] for a in agg]
    assert recent[1]["id"] == recent[0]["id"] + 1 and agg[1]["a"] == agg[0]["a"] + 1  # each symbol counts its own
    assert {a["a"] for a in agg}.isdisjoint(r["id"] for r in recent)  # two sequences, as on Binance
    assert (day["count"], day["lastId"] - day["firstId"] + 1) == (2, 2)
    assert [r["isBuyerMaker"] for r in recent] == [False, True] and recent[1]["quoteQty"] == "1202.00000000"
    since = await rest.fetch_trades(BTC, params={"fromId": agg[1]["a"]})
    assert [t["id"] for t in since] == [str(agg[1]["a"])]
    assert await rest.fapiPublicGetAggTrades({"symbol": "BTCUSDT", "fromId": agg[1]["a"] + 1}) == []
    with pytest.raises(ccxt.BadRequest, match="-1127"):
        await rest.fapiPublicGetAggTrades({"symbol": "BTCUSDT", "startTime": 0, "endTime": 3_600_001})


async def test_mark_and_index_candles_follow_the_price(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    await asyncio.sleep(1)  # a move at the listing instant would replace the listing price
    binance_venue.engine.set_price("BTCUSDT", "60100.0")
    [mark] = await rest.fetch_mark_ohlcv(BTC, "1h", limit=1)
    [index] = await rest.fetch_index_ohlcv(BTC, "1h", limit=1)
    raw = await rest.fapiPublicGetIndexPriceKlines({"pair": "BTCUSDT", "interval": "1h", "limit": 1})
    assert mark[1:5] == index[1:5] == [60000.0, 60100.0, 60000.0, 60100.0]
    assert raw[0][1] == "60000.00000000" and raw[0][5] == "0"
