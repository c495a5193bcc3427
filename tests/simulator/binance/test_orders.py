"""Binance USD-M through unmodified ccxt.binanceusdm: markets, orders, algo stops, positions, trades."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import ccxt
import pytest

from simulator.server import RunningBinance

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"


async def test_markets_list_the_catalogue_as_swaps_with_binance_filters(binance_rest: Any) -> None:
    markets = await binance_rest.load_markets()

    assert set(markets) == {"BTC/USDT:USDT", "ETH/USDT:USDT", "TOWNS/USDT:USDT", "NIL/USDT:USDT"}
    btc = markets[BTC]
    assert (btc["type"], btc["linear"], btc["settle"], btc["precision"]["price"], btc["precision"]["amount"]) == (
        "swap", True, "USDT", 0.1, 0.001)
    assert btc["limits"]["cost"]["min"] == 100.0


async def test_a_market_order_answers_with_the_full_result_and_opens_a_position(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    order = await binance_rest.create_order(BTC, "market", "buy", 0.01)

    assert (order["status"], order["filled"], order["average"], order["side"]) == ("closed", 0.01, 60000.0, "buy")
    assert order["id"].isdigit() and order["clientOrderId"].startswith("x-cvBPrNm9")
    [position] = await binance_rest.fetch_positions()
    assert (position["side"], position["contracts"], position["entryPrice"]) == ("long", 0.01, 60000.0)
    fetched = await binance_rest.fetch_order(order["id"], BTC)
    assert (fetched["id"], fetched["status"], fetched["filled"]) == (order["id"], "closed", 0.01)
    by_client_id = await binance_rest.fetch_order(None, BTC, {"clientOrderId": order["clientOrderId"]})
    assert by_client_id["id"] == order["id"]


async def test_an_ack_answer_shows_the_order_as_accepted(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    order = await binance_rest.create_order(BTC, "market", "buy", 0.01, None, {"newOrderRespType": "ACK"})

    assert (order["status"], order["filled"]) == ("open", 0.0)
    assert (await binance_rest.fetch_order(order["id"], BTC))["status"] == "closed"


async def test_a_reduce_only_close_flattens_and_a_second_is_refused(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    await binance_rest.create_order(BTC, "market", "buy", 0.01)
    close = await binance_rest.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})

    assert (close["status"], close["reduceOnly"]) == ("closed", True)
    assert await binance_rest.fetch_positions() == []
    with pytest.raises(ccxt.ExchangeError, match="-2022"):  # ReduceOnly Order is rejected
        await binance_rest.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})


async def test_a_limit_order_rests_is_listed_and_cancels(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    order = await binance_rest.create_order(BTC, "limit", "buy", 0.01, 59000)

    assert order["status"] == "open"
    assert [o["id"] for o in await binance_rest.fetch_open_orders(BTC)] == [order["id"]]
    cancelled = await binance_rest.cancel_order(order["id"], BTC)
    assert cancelled["status"] == "canceled"
    assert await binance_rest.fetch_open_orders(BTC) == []
    assert [o["status"] for o in await binance_rest.fetch_orders(BTC)] == ["canceled"]


async def test_an_algo_stop_loss_is_created_listed_fetched_and_cancelled(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    await binance_rest.create_order(BTC, "market", "buy", 0.01)
    stop = await binance_rest.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 55000,
                                                                               "reduceOnly": True})

    assert (stop["status"], stop["triggerPrice"], stop["reduceOnly"]) == ("open", 55000.0, True)
    assert await binance_rest.fetch_open_orders(BTC) == []  # algo orders are not regular open orders
    [listed] = await binance_rest.fetch_open_orders(BTC, None, None, {"trigger": True})
    assert listed["id"] == stop["id"]
    assert (await binance_rest.fetch_order(stop["id"], BTC, {"trigger": True}))["status"] == "open"
    await binance_rest.cancel_order(stop["id"], BTC, {"trigger": True})
    assert await binance_rest.fetch_open_orders(BTC, None, None, {"trigger": True}) == []


async def test_an_algo_stop_fires_when_the_price_falls_through_it(
    binance_venue: RunningBinance, binance_rest: Any
) -> None:
    await binance_rest.load_markets()
    await binance_rest.create_order(BTC, "market", "buy", 0.01)
    stop = await binance_rest.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 55000,
                                                                               "reduceOnly": True})
    binance_venue.engine.set_price("BTCUSDT", "54000")

    assert await binance_rest.fetch_positions() == []
    assert (await binance_rest.fetch_order(stop["id"], BTC, {"trigger": True}))["status"] == "closed"


async def test_a_stop_that_would_fire_at_once_is_refused(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    await binance_rest.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.ExchangeError, match="-2021"):  # Order would immediately trigger.
        await binance_rest.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 61000,
                                                                            "reduceOnly": True})


async def test_trades_balance_and_leverage(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    assert (await binance_rest.set_leverage(20, BTC))["leverage"] == 20
    await binance_rest.create_order(BTC, "market", "buy", 0.01)

    [trade] = await binance_rest.fetch_my_trades(BTC)
    assert (trade["side"], trade["amount"], trade["price"], trade["fee"]["cost"]) == ("buy", 0.01, 60000.0, 0.3)
    balance = await binance_rest.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(10000 - 0.3)
    assert balance["USDT"]["used"] == pytest.approx(600 / 20)


@pytest.mark.parametrize(("call", "error", "code"), [
    (lambda c: c.create_order(BTC, "market", "buy", 100), ccxt.ExchangeError, "-2019"),  # ccxt's URL-keyed table
    (lambda c: c.fetch_order("123", BTC), ccxt.OrderNotFound, "-2013"),
    (lambda c: c.cancel_order("123", BTC), ccxt.OrderNotFound, "-2011"),
    (lambda c: c.create_order(BTC, "market", "buy", 0.0011), ccxt.ExchangeError, "-4164"),
    (lambda c: c.set_margin_mode("cross", BTC), ccxt.MarginModeAlreadySet, "-4046"),
    (lambda c: c.set_position_mode(False), ccxt.OperationRejected, "-4059"),
], ids=["margin", "unknown-order", "cancel-unknown", "min-notional", "margin-type", "position-side"])
async def test_refusals_reach_ccxt_with_binance_codes(binance_rest: Any, call: Any, error: type, code: str) -> None:
    await binance_rest.load_markets()
    with pytest.raises(error, match=code):
        await call(binance_rest)


async def test_a_bad_signature_and_a_stale_timestamp_are_refused(binance_venue: RunningBinance) -> None:
    wrong_secret = binance_venue.rest_client(secret="not-the-secret")
    await wrong_secret.load_markets()
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await wrong_secret.fetch_balance()
    skewed = binance_venue.rest_client(options={"fetchCurrencies": False, "timeDifference": 30_000})
    with pytest.raises(ccxt.InvalidNonce, match="-1021"):
        await skewed.fetch_balance()


async def test_a_resting_limit_order_is_modified_in_place_and_pushed_as_an_amendment(
        binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    placed = await rest.create_order(BTC, "limit", "buy", 0.01, 58000)
    key = (await rest.fapiPrivatePostListenKey())["listenKey"]
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(f"{binance_venue.base_url.replace('http', 'ws', 1)}/ws/{key}") as ws:
        await asyncio.wait_for(binance_venue.venue.streams.wait_listening(binance_venue.account.account_id), 10)

        modified = await rest.edit_order(placed["id"], BTC, "limit", "buy", 0.02, 58500)
        update = json.loads((await asyncio.wait_for(ws.receive(), 10)).data)

    assert (modified["id"], modified["amount"], modified["price"], modified["status"]) == \
        (placed["id"], 0.02, 58500.0, "open")
    assert (update["o"]["x"], update["o"]["X"], update["o"]["q"], update["o"]["p"]) == \
        ("AMENDMENT", "NEW", "0.020", "58500.0")
    with pytest.raises(ccxt.ExchangeError, match="-5027"):  # nothing to change
        await rest.edit_order(placed["id"], BTC, "limit", "buy", 0.02, 58500)
    with pytest.raises(ccxt.ExchangeError, match="-4164"):  # refused: 0.02 at 1 USDT is below the minimum notional
        await rest.edit_order(placed["id"], BTC, "limit", "buy", 0.02, 1)
    assert (await rest.fetch_open_order(placed["id"], BTC))["price"] == 58500.0  # and the order stays as it was
    filled = await rest.edit_order(placed["id"], BTC, "limit", "buy", 0.02, 60100)  # across the market
    assert (filled["status"], filled["filled"], filled["average"]) == ("closed", 0.02, 60000.0)
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await rest.edit_order(placed["id"], BTC, "limit", "buy", 0.02, 58000)


async def test_the_commission_rate_is_the_one_charged(binance_rest: Any) -> None:
    fee = await binance_rest.fetch_trading_fee(BTC)
    await binance_rest.create_order(BTC, "market", "buy", 0.01)
    [trade] = await binance_rest.fetch_my_trades(BTC)

    assert (fee["maker"], fee["taker"]) == (0.0002, 0.0005)
    assert trade["fee"]["cost"] == pytest.approx(0.01 * 60000 * fee["taker"])


async def test_klines_are_built_from_the_venues_own_prices_and_fills(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    listed = binance_venue.engine.now_ms()
    await asyncio.sleep(60 - listed % 60_000 / 1000 + 30)
    binance_venue.engine.set_price("BTCUSDT", "60100.0")
    await rest.create_order(BTC, "market", "buy", 0.01)  # a buyer taking 60100
    binance_venue.engine.set_price("BTCUSDT", "59900.0")
    await asyncio.sleep(60)

    candles = await rest.fetch_ohlcv(BTC, "1m", limit=3)
    raw = await rest.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "1m", "limit": 3})

    minute = listed - listed % 60_000
    assert [c[:6] for c in candles] == [[minute, 60000.0, 60000.0, 60000.0, 60000.0, 0.0],
                                        [minute + 60_000, 60000.0, 60100.0, 59900.0, 59900.0, 0.01],
                                        [minute + 120_000, 59900.0, 59900.0, 59900.0, 59900.0, 0.0]]
    assert raw[1] == [minute + 60_000, "60000.0", "60100.0", "59900.0", "59900.0", "0.010", minute + 119_999,
                      "601.00000000", 1, "0.010", "601.00000000", "0"]  # oldest first; the taker bought
    with pytest.raises(ccxt.BadRequest, match="-1120"):
        await rest.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "7m"})
    with pytest.raises(ccxt.ExchangeError, match="-1023"):
        await rest.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "1m", "startTime": minute + 60_000,
                                        "endTime": minute})
    [earliest] = await rest.fapiPublicGetKlines({"symbol": "BTCUSDT", "interval": "1m", "startTime": 0, "limit": 1})
    assert earliest[0] == minute  # from the listing, as python-binance's earliest-timestamp probe expects


async def test_prices_are_written_as_binance_writes_them_however_they_were_set(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    binance_venue.engine.set_price("BTCUSDT", "64000")  # no decimals, as a test or /sim/price may say it
    await rest.create_order(BTC, "market", "buy", 0.01)

    ticker = await rest.fapiPublicGetTickerPrice({"symbol": "BTCUSDT"})
    premium = await rest.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
    [risk] = [r for r in await rest.fapiPrivateV3GetPositionRisk() if r["symbol"] == "BTCUSDT"]

    assert ticker["price"] == "64000.0"  # on the tick, as the listing price reads ("60000.0")
    assert (premium["markPrice"], premium["indexPrice"], risk["markPrice"]) == ("64000.00000000",) * 3
