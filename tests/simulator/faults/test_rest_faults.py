"""REST faults through unmodified ccxt: what the client sees, and that the venue's books stay true."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from simulator.faults import (
    AnswerAfterApply,
    DropAfterApply,
    DropBeforeApply,
    Fault,
    FaultPlan,
    HttpAnswer,
    Latency,
    LiquidityCap,
    MarketTarget,
    OnCall,
    PositionLag,
    QueryTarget,
    RestTarget,
    VisibilityLag,
)
from simulator.server import RunningVenue
from virtualtime.trace import Trace

pytestmark = pytest.mark.virtual_time
CREATE = RestTarget("POST", "/v5/order/create")
GIGA = "GIGA/USDT:USDT"


def venue_orders(venue: RunningVenue) -> list[Any]:
    return venue.engine.orders.all_for(venue.account.account_id)


async def test_a_response_lost_after_the_fill_leaves_the_order_on_the_venue(
    bybit_venue: RunningVenue, bybit_rest: Any, trace: Trace
) -> None:
    await bybit_rest.load_markets()
    bybit_venue.faults.add(Fault("create lost", CREATE, DropAfterApply()))

    with pytest.raises(ccxt.NetworkError):
        await bybit_rest.create_order(GIGA, "market", "sell", 920, None, {"clientOrderId": "lost-1"})

    [order] = venue_orders(bybit_venue)
    assert (order.client_order_id, order.filled_qty) == ("lost-1", 920)
    [fault] = [r for r in trace.records if r.kind == "fault"]
    assert (fault.fields["applied"], fault.fields["told"], fault.fields["venue_status"]) == (
        True, "connection dropped", 200)
    # The venue keeps serving: the next call goes through and sees the position.
    [position] = [p for p in await bybit_rest.fetch_positions([GIGA]) if p["contracts"]]
    assert position["contracts"] == 920


async def test_a_request_dropped_before_the_venue_changes_nothing(
    bybit_venue: RunningVenue, bybit_rest: Any, trace: Trace
) -> None:
    await bybit_rest.load_markets()
    bybit_venue.faults.add(Fault("create dropped", CREATE, DropBeforeApply()))

    with pytest.raises(ccxt.NetworkError):
        await bybit_rest.create_order(GIGA, "market", "sell", 920)

    assert venue_orders(bybit_venue) == []
    venue_saw = [r.fields["path"] for r in trace.records if r.kind == "rest.request"]
    assert venue_saw and "/v5/order/create" not in venue_saw  # the venue recorded other calls, not this one
    [fault] = [r for r in trace.records if r.kind == "fault"]
    assert fault.fields["applied"] is False


@pytest.mark.parametrize(
    ("answer", "ccxt_error"),
    [
        (HttpAnswer(502, "<html><body>502 Bad Gateway</body></html>"), ccxt.ExchangeNotAvailable),
        (HttpAnswer(503, "<html>Service Unavailable</html>"), ccxt.ExchangeNotAvailable),
        (HttpAnswer(429, "Too Many Requests", "text/plain", (("Retry-After", "1"),)), ccxt.RateLimitExceeded),
    ],
    ids=["502", "503", "429"],
)
async def test_a_gateway_answer_reaches_ccxt_as_its_error_class(
    bybit_venue: RunningVenue, bybit_rest: Any, answer: HttpAnswer, ccxt_error: type[Exception]
) -> None:
    await bybit_rest.load_markets()
    bybit_venue.faults.add(Fault("gateway", CREATE, answer))

    with pytest.raises(ccxt_error):
        await bybit_rest.create_order(GIGA, "market", "sell", 920)

    assert venue_orders(bybit_venue) == []


async def test_on_call_fires_on_the_nth_matching_call_only(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.load_markets()
    bybit_venue.faults.add(Fault("second create", CREATE, DropBeforeApply(), OnCall(n=2)))

    await bybit_rest.create_order(GIGA, "market", "sell", 300)
    with pytest.raises(ccxt.NetworkError):
        await bybit_rest.create_order(GIGA, "market", "sell", 300)
    await bybit_rest.create_order(GIGA, "market", "sell", 300)

    assert len(venue_orders(bybit_venue)) == 2


def test_the_plan_refuses_what_it_cannot_mean() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        OnCall(n=0)
    with pytest.raises(ValueError, match="100-599"):
        HttpAnswer(700)
    plan = FaultPlan()
    plan.add(Fault("x", CREATE, DropBeforeApply()))
    with pytest.raises(ValueError, match="already planned"):
        plan.add(Fault("x", CREATE, DropAfterApply()))


async def test_a_visibility_lag_hides_new_orders_from_queries_but_not_from_trading(
    bybit_venue: RunningVenue, bybit_rest: Any, trace: Trace
) -> None:
    bybit_venue.faults.add(Fault("read side lags", QueryTarget("orders"), VisibilityLag(ms=3_000)))
    await bybit_rest.load_markets()
    created = await bybit_rest.create_order(GIGA, "market", "sell", 920, None, {"clientOrderId": "lag-1"})

    assert await bybit_rest.fetch_canceled_and_closed_orders(GIGA, None, None, {"orderId": created["id"]}) == []
    [position] = [p for p in await bybit_rest.fetch_positions([GIGA]) if p["contracts"]]  # it filled all the same
    assert position["contracts"] == 920
    await asyncio.sleep(3)
    [found] = await bybit_rest.fetch_canceled_and_closed_orders(GIGA, None, None, {"orderId": created["id"]})
    assert (found["clientOrderId"], found["status"]) == ("lag-1", "closed")
    assert any(r.kind == "fault" and r.fields.get("order_id") == created["id"] for r in trace.records)


async def test_a_hang_longer_than_the_client_timeout_leaves_an_applied_order_and_a_timeout(
    bybit_venue: RunningVenue, bybit_rest: Any
) -> None:
    await bybit_rest.load_markets()
    bybit_venue.faults.add(Fault("hang", CREATE, Latency(ms=bybit_rest.timeout + 5_000)))
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(ccxt.RequestTimeout):
        await bybit_rest.create_order(GIGA, "market", "sell", 920)

    # The client gave up at its own timeout (plus its rate limiter's wait), long before the 15 s answer.
    assert bybit_rest.timeout / 1000 <= loop.time() - started < bybit_rest.timeout / 1000 + 1
    assert len(venue_orders(bybit_venue)) == 1


async def test_an_error_answer_after_applying_hides_a_real_fill(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.load_markets()
    server_error = '{"retCode":10016,"retMsg":"Internal system error.","result":{},"retExtInfo":{},"time":1}'
    bybit_venue.faults.add(Fault("10016 after apply", CREATE, AnswerAfterApply(200, server_error)))

    with pytest.raises(ccxt.ExchangeError) as caught:
        await bybit_rest.create_order(GIGA, "market", "sell", 920)

    assert "10016" in str(caught.value)
    [order] = venue_orders(bybit_venue)
    assert order.filled_qty == 920


async def test_a_liquidity_cap_fills_a_market_order_partly_and_cancels_the_rest(
    bybit_venue: RunningVenue, bybit_rest: Any, trace: Trace
) -> None:
    bybit_venue.faults.add(Fault("thin book", MarketTarget("GIGAUSDT"), LiquidityCap(Decimal(460))))
    await bybit_rest.load_markets()

    created = await bybit_rest.create_order(GIGA, "market", "sell", 920)

    [order] = await bybit_rest.fetch_canceled_and_closed_orders(GIGA, None, None, {"orderId": created["id"]})
    assert (order["status"], order["filled"], order["amount"]) == ("canceled", 460.0, 920.0)
    [position] = [p for p in await bybit_rest.fetch_positions([GIGA]) if p["contracts"]]
    assert position["contracts"] == 460
    assert any(r.kind == "fault" and "filled 460 of 920" in r.fields["told"] for r in trace.records)


async def test_a_position_lag_answers_with_the_positions_of_a_while_ago(
    bybit_venue: RunningVenue, bybit_rest: Any, trace: Trace
) -> None:
    bybit_venue.faults.add(Fault("stale list", QueryTarget("positions"), PositionLag(ms=10_000)))
    await bybit_rest.load_markets()
    await bybit_rest.create_order(GIGA, "market", "sell", 920)

    assert [p for p in await bybit_rest.fetch_positions([GIGA]) if p["contracts"]] == []  # not yet listed
    await asyncio.sleep(10)
    [position] = [p for p in await bybit_rest.fetch_positions([GIGA]) if p["contracts"]]
    assert (position["side"], position["contracts"]) == ("short", 920)
    assert any(r.kind == "fault" and r.fields.get("told", "").startswith("size 0") for r in trace.records)


def test_a_query_effect_needs_its_own_books() -> None:
    with pytest.raises(ValueError, match="QueryTarget\\('positions'\\)"):
        Fault("x", QueryTarget("orders"), PositionLag(ms=5))
