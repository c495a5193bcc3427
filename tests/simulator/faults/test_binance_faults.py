"""The fault vocabulary on the Binance venue, through unmodified ccxt.binanceusdm: what the client sees,
and that the venue's books stay true (an order applied behind a lost answer is really there)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from simulator.faults import (
    DropAfterApply,
    DropBeforeApply,
    Fault,
    Latency,
    LiquidityCap,
    MarketTarget,
    PositionLag,
    QueryTarget,
    RestTarget,
    VisibilityLag,
    WithProbability,
)
from simulator.faults import answers as a
from simulator.server import RunningBinance
from simulator.simulation import Simulation
from simulator.testing import watching_binance
from virtualtime.trace import Trace

pytestmark = pytest.mark.virtual_time
TOWNS = "TOWNS/USDT:USDT"
ORDER = RestTarget("POST", "/fapi/v1/order")


async def client(venue: RunningBinance) -> Any:
    rest = venue.rest_client()
    await rest.load_markets()
    return rest


def held(venue: RunningBinance) -> list[Decimal]:
    return [p.size for p in venue.engine.positions(venue.account.account_id) if p.size]


@pytest.mark.parametrize(("effect", "applied"), [(DropAfterApply(), True), (DropBeforeApply(), False)],
                         ids=["after-apply", "before-apply"])
async def test_a_dropped_connection_leaves_the_books_as_the_venue_left_them(
    binance_venue: RunningBinance, effect: DropAfterApply | DropBeforeApply, applied: bool, trace: Trace
) -> None:
    rest = await client(binance_venue)
    binance_venue.faults.add(Fault("cut", ORDER, effect))

    with pytest.raises(ccxt.NetworkError):
        await rest.create_order(TOWNS, "market", "sell", 1000, None, {"clientOrderId": "cut-1"})

    assert held(binance_venue) == ([Decimal(-1000)] if applied else [])
    [fault] = [r for r in trace.records if r.kind == "fault"]
    assert (fault.fields["applied"], fault.fields["told"]) == (applied, "connection dropped")
    if applied:  # found by the client id it sent
        assert (await rest.fetch_order(None, TOWNS, {"origClientOrderId": "cut-1"}))["status"] == "closed"


async def test_a_visibility_lag_hides_a_filled_order_from_queries_for_a_while(binance_venue: RunningBinance) -> None:
    rest = await client(binance_venue)
    binance_venue.faults.add(Fault("read side lags", QueryTarget("orders"), VisibilityLag(ms=3_000)))

    created = await rest.create_order(TOWNS, "market", "sell", 1000)

    with pytest.raises(ccxt.OrderNotFound):
        await rest.fetch_order(created["id"], TOWNS)
    assert held(binance_venue) == [Decimal(-1000)]  # it traded all the same
    await asyncio.sleep(3)
    assert (await rest.fetch_order(created["id"], TOWNS))["status"] == "closed"


async def test_a_position_lag_lists_the_positions_of_a_while_ago(binance_venue: RunningBinance) -> None:
    rest = await client(binance_venue)
    binance_venue.faults.add(Fault("stale list", QueryTarget("positions"), PositionLag(ms=10_000)))

    await rest.create_order(TOWNS, "market", "sell", 1000)

    assert [p for p in await rest.fetch_positions([TOWNS]) if p["contracts"]] == []
    await asyncio.sleep(10)
    [position] = [p for p in await rest.fetch_positions([TOWNS]) if p["contracts"]]
    assert (position["side"], position["contracts"]) == ("short", 1000)


async def test_a_liquidity_cap_fills_part_of_a_market_order_and_expires_the_rest(binance_venue: RunningBinance) -> None:
    rest = await client(binance_venue)
    binance_venue.faults.add(Fault("thin book", MarketTarget("TOWNSUSDT"), LiquidityCap(Decimal(400))))

    created = await rest.create_order(TOWNS, "market", "sell", 1000)

    assert (created["filled"], created["amount"]) == (400.0, 1000.0)
    assert created["status"] in ("canceled", "expired")
    assert held(binance_venue) == [Decimal(-400)]


async def test_a_hang_past_the_client_timeout_leaves_an_applied_order(binance_venue: RunningBinance) -> None:
    rest = await client(binance_venue)
    binance_venue.faults.add(Fault("hang", ORDER, Latency(ms=rest.timeout + 5_000, jitter_ms=1_000)))

    with pytest.raises(ccxt.RequestTimeout):
        await rest.create_order(TOWNS, "market", "sell", 1000)

    assert held(binance_venue) == [Decimal(-1000)]


async def test_a_gap_after_reconnect_is_not_replayed(binance_venue: RunningBinance) -> None:
    # Pushes sent while a client is away are gone: a reconnected stream starts from now.
    account = binance_venue.account.account_id
    rest, pro, first = await watching_binance(binance_venue)
    await binance_venue.venue.streams.drop()
    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(first, 10)

    missed = await rest.create_order(TOWNS, "market", "sell", 1000)  # while nobody listens
    again = asyncio.ensure_future(pro.watch_orders())
    await asyncio.wait_for(binance_venue.venue.streams.wait_listening(account), 10)
    heard = await rest.create_order(TOWNS, "market", "buy", 1000, None, {"reduceOnly": True})

    assert [o["id"] for o in await asyncio.wait_for(again, 10)] == [heard["id"]]
    assert missed["id"] != heard["id"]


async def test_faults_drawn_with_probability_fail_the_same_calls_in_every_run(simulation: Simulation) -> None:
    runs = []
    for _ in range(2):
        async with simulation.serve_binance() as venue:
            rest = await client(venue)
            venue.faults.add(Fault("flaky", RestTarget("GET", "/fapi/v1/time"), a.gateway_page(502),
                                   WithProbability(0.5)))
            seen = []
            for _ in range(16):
                try:
                    await rest.fetch_time()
                    seen.append(True)
                except ccxt.ExchangeNotAvailable:
                    seen.append(False)
            runs.append(seen)
    assert runs[0] == runs[1] and True in runs[0] and False in runs[0]
