"""WebSocket faults through unmodified ccxt.pro: a lost, late or stream-closing push, and the books stay true."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import pytest

from simulator.faults import CloseStream, DelayFrame, DropFrame, Fault, OnCall, RestTarget, StreamTarget
from simulator.server import RunningVenue
from virtualtime.trace import Trace

pytestmark = pytest.mark.virtual_time
GIGA = "GIGA/USDT:USDT"
ORDERS = StreamTarget("/v5/private", "order")


async def watching(venue: RunningVenue, rest: Any, pro: Any) -> asyncio.Task[Any]:
    await rest.load_markets()
    pro.markets, pro.markets_by_id = rest.markets, rest.markets_by_id
    task = asyncio.ensure_future(pro.watch_orders())
    await asyncio.wait_for(venue.venue.streams.wait_subscribed("order"), 10)
    return task


async def test_a_dropped_order_push_never_arrives_and_the_next_one_does(
    bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any, trace: Trace
) -> None:
    # A market order pushes twice on the order topic (New, then Filled): lose both of the first order's.
    bybit_venue.faults.add(Fault("first order's pushes lost", ORDERS, DropFrame(), OnCall(n=1, times=2)))
    watch = await watching(bybit_venue, bybit_rest, bybit_pro)

    first = await bybit_rest.create_order(GIGA, "market", "sell", 300)
    second = await bybit_rest.create_order(GIGA, "market", "sell", 300)
    pushed = await asyncio.wait_for(watch, 10)

    assert [o["id"] for o in pushed] == [second["id"]]
    assert first["id"] != second["id"]
    faults = [r for r in trace.records if r.kind == "fault"]
    assert [(f.fields["topic"], f.fields["told"]) for f in faults] == [("order", "nothing (frame dropped)")] * 2


async def test_a_delayed_push_arrives_that_much_later(
    bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any
) -> None:
    bybit_venue.faults.add(Fault("order pushes late", ORDERS, DelayFrame(ms=2_000), OnCall(n=1, times=2)))
    watch = await watching(bybit_venue, bybit_rest, bybit_pro)
    loop = asyncio.get_running_loop()

    sent_at = loop.time()
    created = await bybit_rest.create_order(GIGA, "market", "sell", 300)
    pushed = await asyncio.wait_for(watch, 10)

    assert [o["id"] for o in pushed] == [created["id"]]
    assert loop.time() - sent_at >= 2.0


async def test_a_closed_stream_surfaces_in_the_watcher_and_the_order_still_exists(
    bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any
) -> None:
    bybit_venue.faults.add(Fault("stream closes on the push", ORDERS, CloseStream()))
    watch = await watching(bybit_venue, bybit_rest, bybit_pro)

    created = await bybit_rest.create_order(GIGA, "market", "sell", 300)

    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(watch, 10)
    assert bybit_venue.engine.find_order(bybit_venue.account.account_id, order_id=created["id"]) is not None


def test_a_stream_effect_needs_a_stream_target() -> None:
    with pytest.raises(ValueError, match="use a StreamTarget"):
        Fault("x", RestTarget("POST", "/v5/order/create"), DropFrame())
    with pytest.raises(ValueError, match="ms > 0"):
        DelayFrame(ms=0)
    assert OnCall().fires(1)
