"""Binance's batchOrders through unmodified ccxt: each item placed or refused on its own, in order."""

from __future__ import annotations

import ccxt
import pytest

from simulator.server import RunningBinance

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"


async def test_a_batch_places_what_it_can_and_says_why_for_the_rest(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    orders = await rest.create_orders([
        {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 59000},
        {"symbol": BTC, "type": "limit", "side": "buy", "amount": 2000, "price": 59000},  # past the max qty
        {"symbol": BTC, "type": "market", "side": "sell", "amount": 0.01},
    ])
    assert sorted(o["status"] for o in orders) == ["closed", "open", "rejected"]
    [refused] = [o for o in orders if o["status"] == "rejected"]
    assert refused["info"] == {"code": -1013, "msg": "Filter failure: LOT_SIZE"}
    assert len(await rest.fetch_open_orders(BTC)) == 1

    raw = await rest.fapiPrivatePostBatchOrders({"batchOrders": [
        {"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_MARKET", "quantity": "0.01", "stopPrice": "59000"},
        {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "58000",
         "timeInForce": "GTC", "newClientOrderId": "b-2"}]})
    assert raw[0]["code"] == -4120  # conditional orders live on the algo service, in a batch too
    assert raw[1]["clientOrderId"] == "b-2" and raw[1]["status"] == "NEW"


async def test_a_batch_counts_five_against_the_ten_second_order_limit_and_six_are_refused(
        binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    one = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "58000", "timeInForce": "GTC"}
    with pytest.raises(ccxt.BadRequest, match="-4082.*Invalid number of batch place orders: 6"):
        await rest.fapiPrivatePostBatchOrders({"batchOrders": [one] * 6})
    assert await rest.fetch_open_orders(BTC) == []  # refused whole: nothing placed
    await rest.fapiPrivatePostBatchOrders({"batchOrders": [one] * 2})
    headers = {k.lower(): v for k, v in rest.last_response_headers.items()}
    assert (headers["x-mbx-order-count-10s"], headers["x-mbx-order-count-1m"]) == ("5", "1")  # Binance: 5 and 1


async def test_a_read_only_key_may_read_but_not_place_alone_or_in_a_batch(binance_venue: RunningBinance) -> None:
    from decimal import Decimal

    binance_venue.engine.add_account(api_key="ro-key", api_secret="ro-secret", balance=Decimal(1000), read_only=True)
    rest = binance_venue.rest_client(apiKey="ro-key", secret="ro-secret")
    await rest.load_markets()
    assert (await rest.fetch_balance())["USDT"]["total"] == 1000.0
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await rest.create_order(BTC, "limit", "buy", 0.01, 58000)
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await rest.create_orders([{"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 58000}])
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await rest.set_leverage(5, BTC)
    assert binance_venue.engine.orders.open_for(binance_venue.engine.account_by_key("ro-key").account_id) == []

