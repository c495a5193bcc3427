"""The GIGAUSDT incident's first failure, for real: what ccxt's fetch_order can and cannot see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from simulator.engine import OrderRequest, OrderType, Side, Symbol
from simulator.server import RunningVenue

pytestmark = pytest.mark.virtual_time

GIGA = "GIGA/USDT:USDT"


async def test_fetch_order_on_the_unified_account_raises_arguments_required(bybit_rest: Any) -> None:
    created = await bybit_rest.create_order(GIGA, "market", "sell", 920)
    with pytest.raises(ccxt.ArgumentsRequired) as caught:
        await bybit_rest.fetch_order(created["id"], GIGA)
    assert "can only access an order if it is in last 500 orders" in str(caught.value)
    assert 'params["acknowledged"] = True' in str(caught.value)


async def test_acknowledged_fetch_order_finds_a_recent_order(bybit_rest: Any) -> None:
    created = await bybit_rest.create_order(GIGA, "market", "sell", 920)
    order = await bybit_rest.fetch_order(created["id"], GIGA, {"acknowledged": True})
    assert (order["status"], order["side"], order["filled"], order["average"]) == ("closed", "sell", 920.0, 0.0195)


async def test_an_order_pushed_out_of_the_500_window_is_only_in_history(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    target = await bybit_rest.create_order(GIGA, "market", "sell", 920)
    engine, account_id = bybit_venue.engine, bybit_venue.account.account_id
    flip = (Side.BUY, Side.SELL)
    for i in range(500):
        engine.place_order(
            account_id,
            OrderRequest(symbol=Symbol("GIGAUSDT"), side=flip[i % 2], order_type=OrderType.MARKET, qty=Decimal(300)),
        )
    with pytest.raises(ccxt.OrderNotFound):
        await bybit_rest.fetch_order(target["id"], GIGA, {"acknowledged": True})
    closed = await bybit_rest.fetch_closed_order(target["id"], GIGA)
    assert (closed["id"], closed["status"], closed["filled"]) == (target["id"], "closed", 920.0)


async def test_after_a_venue_restart_closed_orders_are_history_only(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    target = await bybit_rest.create_order(GIGA, "market", "sell", 920)
    bybit_venue.engine.restart()
    with pytest.raises(ccxt.OrderNotFound):
        await bybit_rest.fetch_order(target["id"], GIGA, {"acknowledged": True})
    assert (await bybit_rest.fetch_closed_order(target["id"], GIGA))["id"] == target["id"]


async def test_realtime_lookup_priority_is_order_id_then_link_id_then_symbol(bybit_rest: Any) -> None:
    first = await bybit_rest.create_order(GIGA, "limit", "buy", 920, 0.018, params={"clientOrderId": "a"})
    second = await bybit_rest.create_order(GIGA, "limit", "buy", 920, 0.017, params={"clientOrderId": "b"})
    await bybit_rest.load_markets()
    base = {"category": "linear", "symbol": "GIGAUSDT"}
    by_both = await bybit_rest.private_get_v5_order_realtime({**base, "orderId": first["id"], "orderLinkId": "b"})
    assert [o["orderId"] for o in by_both["result"]["list"]] == [first["id"]]
    by_link = await bybit_rest.private_get_v5_order_realtime({**base, "orderLinkId": "b"})
    assert [o["orderId"] for o in by_link["result"]["list"]] == [second["id"]]
    by_symbol = await bybit_rest.private_get_v5_order_realtime(base)
    # Newest first.
    assert [o["orderId"] for o in by_symbol["result"]["list"]] == [second["id"], first["id"]]


async def test_open_only_one_lists_the_recent_closed_orders_only(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    filled = await bybit_rest.create_order(GIGA, "market", "sell", 920)
    resting = await bybit_rest.create_order(GIGA, "limit", "buy", 920, 0.018)
    await bybit_rest.load_markets()
    base = {"category": "linear", "symbol": "GIGAUSDT"}
    closed = await bybit_rest.private_get_v5_order_realtime({**base, "openOnly": "1"})
    assert [o["orderId"] for o in closed["result"]["list"]] == [filled["id"]]
    open_ = await bybit_rest.private_get_v5_order_realtime(base)
    assert [o["orderId"] for o in open_["result"]["list"]] == [resting["id"]]


async def test_history_keeps_unfilled_cancelled_orders_for_a_day_and_fills_for_longer() -> None:
    import time

    from simulator.clock import ManualClock
    from simulator.server import bybit_engine, serve_bybit
    from tests.simulator.bybit import rawhttp

    clock = ManualClock(start_ms=time.time_ns() // 1_000_000)
    async with serve_bybit(engine=bybit_engine(clock=clock, seed=3)) as venue:
        _, created = await rawhttp.post(venue, "/v5/order/create", {
            "category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit", "qty": "1", "price": "2000"})
        resting_id = created["result"]["orderId"]
        query = {"category": "linear", "symbol": "ETHUSDT"}
        _, history = await rawhttp.get(venue, "/v5/order/history", query)
        assert history["result"]["list"] == []  # open orders are not history
        await rawhttp.post(venue, "/v5/order/cancel", {"category": "linear", "symbol": "ETHUSDT", "orderId": resting_id})
        _, filled = await rawhttp.post(venue, "/v5/order/create", {
            "category": "linear", "symbol": "ETHUSDT", "side": "Buy", "orderType": "Market", "qty": "1"})
        _, history = await rawhttp.get(venue, "/v5/order/history", query)
        assert {o["orderId"] for o in history["result"]["list"]} == {resting_id, filled["result"]["orderId"]}
        clock.advance_ms(25 * 3600 * 1000)
        _, history = await rawhttp.get(venue, "/v5/order/history", {**query, "startTime": str(clock.time_ns() // 1_000_000 - 2 * 86_400_000)})
        assert [o["orderId"] for o in history["result"]["list"]] == [filled["result"]["orderId"]]
        assert venue.venue.internal_errors == []
