"""Amending an open order through unmodified ccxt (``edit_order``, Bybit's ``/v5/order/amend``)."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import pytest

from simulator.engine.events import EngineEvent
from simulator.server import RunningVenue

pytestmark = pytest.mark.virtual_time

BTC = "BTC/USDT:USDT"


async def test_a_resting_limit_order_takes_a_new_qty_and_price_under_the_same_ids(
        bybit_venue: RunningVenue, bybit_pro: Any) -> None:
    watching = asyncio.ensure_future(bybit_pro.watch_orders(BTC))
    await asyncio.wait_for(bybit_venue.venue.streams.wait_subscribed("order"), 10)
    placed = await bybit_pro.create_order(BTC, "limit", "buy", 0.01, 58000, {"clientOrderId": "entry-1"})
    await asyncio.wait_for(watching, 10)
    pushed = asyncio.ensure_future(bybit_pro.watch_orders(BTC))

    edited = await bybit_pro.edit_order(placed["id"], BTC, "limit", "buy", 0.02, 58500)

    assert (edited["id"], edited["clientOrderId"]) == (placed["id"], "entry-1")  # ids only, as create's answer
    seen = await bybit_pro.fetch_open_order(placed["id"], BTC)
    assert (seen["amount"], seen["price"], seen["status"]) == (0.02, 58500.0, "open")
    [update] = await asyncio.wait_for(pushed, 10)
    assert (update["id"], update["amount"], update["price"], update["status"]) == (placed["id"], 0.02, 58500.0, "open")
    wallet = (await bybit_pro.fetch_balance())["USDT"]
    assert wallet["used"] == pytest.approx(0.02 * 58500 / 10)  # the locked margin follows the new size and price


async def test_a_limit_price_moved_across_the_market_fills_at_once(bybit_rest: Any) -> None:
    placed = await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 59000)

    await bybit_rest.edit_order(placed["id"], BTC, "limit", "buy", None, 60100)

    order = await bybit_rest.fetch_closed_order(placed["id"], BTC)
    assert (order["status"], order["filled"], order["average"]) == ("closed", 0.01, 60000.0)  # a taker, at the market
    [position] = [p for p in await bybit_rest.fetch_positions([BTC]) if p["contracts"]]
    assert (position["side"], position["contracts"]) == ("long", 0.01)


async def test_a_stop_moves_its_trigger_but_not_past_the_market_nor_after_it_fired(
        bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "market", "buy", 0.01)
    stop = await bybit_rest.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 58000, "reduceOnly": True})

    await bybit_rest.edit_order(stop["id"], BTC, "market", "sell", None, None, {"stopLossPrice": 59000})
    [open_stop] = await bybit_rest.fetch_open_orders(BTC, None, None, {"trigger": True})
    assert (open_stop["id"], open_stop["triggerPrice"]) == (stop["id"], 59000.0)

    with pytest.raises(ccxt.InvalidOrder, match="110093.*expect Falling"):
        await bybit_rest.edit_order(stop["id"], BTC, "market", "sell", None, None, {"stopLossPrice": 61000})
    bybit_venue.engine.set_price("BTCUSDT", "58900")  # through the moved trigger: the stop fires
    with pytest.raises(ccxt.OrderNotFound, match="110001.*too late to replace"):
        await bybit_rest.edit_order(stop["id"], BTC, "market", "sell", None, None, {"stopLossPrice": 58000})
    assert [p for p in await bybit_rest.fetch_positions([BTC]) if p["contracts"]] == []


async def test_refused_amendments_answer_bybits_errors_and_change_nothing(
        bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    placed = await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 58000)
    changes: list[EngineEvent] = []
    bybit_venue.engine.subscribe(changes.append)

    with pytest.raises(ccxt.BadRequest, match="10001.*remains unchanged"):
        await bybit_rest.edit_order(placed["id"], BTC, "limit", "buy", 0.01, 58000)
    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        await bybit_rest.edit_order(placed["id"], BTC, "limit", "buy", 5, 58000)  # 29,000 USDT of margin
    with pytest.raises(ccxt.BadRequest, match="doesn't \\(yet\\) support takeProfit on order amend"):
        await bybit_rest.edit_order(placed["id"], BTC, "limit", "buy", 0.02, None, {"takeProfit": "70000"})
    with pytest.raises(ccxt.OrderNotFound, match="110001"):
        await bybit_rest.edit_order("no-such-order", BTC, "limit", "buy", 0.02, 58000)

    assert changes == []
    seen = await bybit_rest.fetch_open_order(placed["id"], BTC)
    assert (seen["amount"], seen["price"]) == (0.01, 58000.0)


async def test_an_amended_order_is_held_to_the_create_rules_for_its_tpsl_reduce_only_qty_and_margin(
        bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    guarded = await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 58000, {"stopLoss": "57000"})
    with pytest.raises(ccxt.BadRequest, match="StopLoss.*should lower than base_price"):
        await bybit_rest.edit_order(guarded["id"], BTC, "limit", "buy", None, 56000)  # below its own stop-loss
    await bybit_rest.cancel_order(guarded["id"], BTC)

    await bybit_rest.create_order(BTC, "market", "buy", 1.5)  # most of the 10,000 USDT as margin
    closing = await bybit_rest.create_order(BTC, "limit", "sell", 1.5, 62000)  # not reduce-only, adds nothing
    await bybit_rest.edit_order(closing["id"], BTC, "limit", "sell", None, 62100)  # create would take it: so does amend
    reducing = await bybit_rest.create_order(BTC, "limit", "sell", 0.5, 63000, {"reduceOnly": True})
    await bybit_rest.edit_order(reducing["id"], BTC, "limit", "sell", 2, 63000)
    assert (await bybit_rest.fetch_open_order(reducing["id"], BTC))["amount"] == 1.5  # cut to the 1.5 held
    with pytest.raises(ccxt.BadRequest, match="remains unchanged"):  # cut to 1.5 again: no change at all
        await bybit_rest.edit_order(reducing["id"], BTC, "limit", "sell", 3, 63000)


async def test_a_triggered_conditional_limit_takes_no_trigger_price(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    order = await bybit_rest.create_order(BTC, "limit", "buy", 0.01, 60500, {"triggerPrice": 61000,
                                                                               "triggerDirection": 1})
    bybit_venue.engine.set_price("BTCUSDT", "61000")  # fires; the limit at 60500 now rests on the book

    with pytest.raises(ccxt.BadRequest, match="doesn't \\(yet\\) support a trigger price for an order that has triggered"):
        await bybit_rest.edit_order(order["id"], BTC, "limit", "buy", None, None, {"triggerPrice": "62000"})
    moved = await bybit_rest.edit_order(order["id"], BTC, "limit", "buy", None, 60400)  # its price still moves
    assert (await bybit_rest.fetch_open_order(moved["id"], BTC))["price"] == 60400.0
