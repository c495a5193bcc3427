"""WebSocket faults through unmodified ccxt.pro: a lost, late or stream-closing push, and the books stay true."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import pytest

from simulator.faults import (
    AbortStream,
    CloseStream,
    DelayFrame,
    DropFrame,
    DuplicateFrame,
    During,
    Fault,
    Latency,
    OnCall,
    ReplaceFrame,
    RestTarget,
    StreamTarget,
)
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


async def test_a_duplicated_push_reaches_ccxt_twice(bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any,
                                                    trace: Trace) -> None:
    bybit_venue.faults.add(Fault("fill pushed twice", ORDERS, DuplicateFrame(), OnCall(n=2)))
    watch = await watching(bybit_venue, bybit_rest, bybit_pro)

    await bybit_rest.create_order(GIGA, "market", "sell", 300)
    await asyncio.sleep(1)
    pushed = await asyncio.wait_for(watch, 10)

    order_frames = [r for r in trace.records if r.kind == "ws.out" and r.fields["frame"].get("topic") == "order"]
    assert len(order_frames) == 3  # New, Filled, Filled again
    assert order_frames[1].fields["frame"] == order_frames[2].fields["frame"]
    assert [o["status"] for o in pushed][-1] == "closed"


async def test_a_refused_auth_reply_fails_ccxt_pros_private_watch(
    bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any
) -> None:
    refusal = '{"success":false,"ret_msg":"Params Error","op":"auth","conn_id":"x"}'
    bybit_venue.faults.add(Fault("auth refused", StreamTarget("/v5/private", "auth"), ReplaceFrame(refusal)))
    await bybit_rest.load_markets()
    bybit_pro.markets, bybit_pro.markets_by_id = bybit_rest.markets, bybit_rest.markets_by_id

    # ccxt.pro raises AuthenticationError only for replies that echo the request; Bybit's v5 auth
    # reply does not, so a refusal surfaces as an ExchangeError with Bybit's message.
    with pytest.raises(ccxt.ExchangeError, match="Params Error"):
        await asyncio.wait_for(bybit_pro.watch_orders(), 10)


async def test_missing_pongs_make_ccxt_pro_drop_the_connection(
    bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any
) -> None:
    bybit_venue.faults.add(Fault("no pong", StreamTarget("/v5/private", "pong"), DropFrame(), During(0, 3_600_000)))
    watch = await watching(bybit_venue, bybit_rest, bybit_pro)
    started = asyncio.get_running_loop().time()

    with pytest.raises(ccxt.RequestTimeout, match="ping-pong keepalive"):
        await asyncio.wait_for(watch, 600)
    # ccxt pings every keepAlive and gives up after maxPingPongMisses of them without a pong.
    waited = asyncio.get_running_loop().time() - started
    keep_alive_s = bybit_pro.streaming["keepAlive"] / 1000  # 18 s for Bybit
    assert 2 * keep_alive_s <= waited <= 4 * keep_alive_s


async def test_an_aborted_stream_surfaces_in_the_watcher_as_a_network_error(
    bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any, trace: Trace
) -> None:
    bybit_venue.faults.add(Fault("reset on the push", ORDERS, AbortStream()))
    watch = await watching(bybit_venue, bybit_rest, bybit_pro)

    created = await bybit_rest.create_order(GIGA, "market", "sell", 300)

    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(watch, 10)
    assert bybit_venue.engine.find_order(bybit_venue.account.account_id, order_id=created["id"]) is not None
    closes = [r.fields["code"] for r in trace.records if r.kind == "ws.close"]
    assert closes and closes[0] != 1001  # no close handshake: not the venue's orderly "going away"


async def test_a_venue_wide_rest_fault_leaves_stream_upgrades_alone(
    bybit_venue: RunningVenue, bybit_rest: Any, bybit_pro: Any
) -> None:
    bybit_venue.faults.add(Fault("every call late", RestTarget("*", "*"), Latency(ms=500), During(0, 3_600_000)))
    watch = await watching(bybit_venue, bybit_rest, bybit_pro)  # the stream connects, authenticates, subscribes

    created = await bybit_rest.create_order(GIGA, "market", "sell", 300)

    assert created["id"] in [o["id"] for o in await asyncio.wait_for(watch, 10)]
