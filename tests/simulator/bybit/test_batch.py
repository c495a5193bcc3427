"""Bybit's batch create through unmodified ccxt: each item placed or refused on its own, in order."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest

from simulator.faults import DropAfterApply, Fault, RestTarget
from simulator.server import RunningVenue
from tests.simulator.bybit import rawhttp

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"
LIMIT = {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01", "price": "59000"}


async def test_a_batch_places_what_it_can_and_says_why_for_the_rest(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    orders = await bybit_rest.create_orders([
        {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 59000,
         "params": {"clientOrderId": "grid-1"}},
        {"symbol": BTC, "type": "limit", "side": "buy", "amount": 2000, "price": 59000},  # past the max qty
        {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 58000,
         "params": {"clientOrderId": "grid-1"}},  # the first one's link id again
        {"symbol": BTC, "type": "market", "side": "sell", "amount": 0.01},
    ])
    by_link = {o["clientOrderId"]: o for o in orders if o["id"]}
    refused = [o for o in orders if o["status"] == "rejected"]
    assert len(by_link["grid-1"]["id"]) == 36 and len(refused) == 2
    assert sorted(o["info"]["code"] for o in refused) == [10001, 110072]
    assert len(await bybit_rest.fetch_open_orders(BTC)) == 1  # the market sell filled, the refused never rested
    assert (await bybit_rest.fetch_position(BTC))["contracts"] == 0.01

    status, body = await rawhttp.post(bybit_venue, "/v5/order/create-batch", {"category": "linear", "request": [
        {**LIMIT, "orderLinkId": "x"}, {**LIMIT, "orderLinkId": "y", "qty": "0"}]})
    assert (status, body["retCode"]) == (200, 0)
    assert [row["orderLinkId"] for row in body["result"]["list"]] == ["x", "y"]
    assert body["result"]["list"][1]["orderId"] == body["result"]["list"][1]["createAt"] == ""
    assert [row["code"] for row in body["retExtInfo"]["list"]] == [0, 10001]


async def test_a_batch_too_large_or_empty_is_refused_whole(bybit_venue: RunningVenue) -> None:
    _, body = await rawhttp.post(bybit_venue, "/v5/order/create-batch",
                                 {"category": "linear", "request": [LIMIT] * 21})
    assert body["retCode"] == 10001 and "at most 20" in body["retMsg"]
    _, body = await rawhttp.post(bybit_venue, "/v5/order/create-batch", {"category": "linear", "request": []})
    assert body["retCode"] == 10001
    _, orders = await rawhttp.get(bybit_venue, "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT"})
    assert orders["result"]["list"] == []


async def test_a_lost_batch_answer_leaves_every_order_placed(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    bybit_venue.faults.add(Fault("batch answer lost", RestTarget("POST", "/v5/order/create-batch"), DropAfterApply()))
    with pytest.raises(ccxt.NetworkError):
        await bybit_rest.create_orders([{"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": p}
                                        for p in (59000, 58000, 57000)])
    assert len(await bybit_rest.fetch_open_orders(BTC)) == 3  # the unknown outcome a grid bot must resolve
