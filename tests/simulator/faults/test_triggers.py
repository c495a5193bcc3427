"""When faults fire: during a window of venue time, with a seeded probability, venue-wide; and truncated answers."""

from __future__ import annotations

import asyncio
import random
from decimal import Decimal

import ccxt
import pytest

from simulator.faults import (
    ANY,
    DropBeforeApply,
    During,
    Fault,
    FaultPlan,
    FaultSpecError,
    Latency,
    OnCall,
    RestTarget,
    TruncatedAnswer,
    VisibilityLag,
    WithProbability,
    fault_from_table,
)
from simulator.faults import answers as a
from simulator.faults.plan import QueryTarget
from simulator.server import RunningBinance, RunningVenue
from simulator.simulation import Simulation

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"


async def test_a_window_fires_only_inside_it_counted_from_when_the_fault_was_planned(bybit_venue: RunningVenue) -> None:
    client = bybit_venue.rest_client()
    await client.load_markets()
    await asyncio.sleep(100)  # the window is relative to planning, not to the venue's start
    bybit_venue.faults.add(Fault("time out", RestTarget("GET", "/v5/market/time"), a.gateway_page(502),
                                 During(start_ms=10_000, end_ms=20_000)))

    seen = []
    for _ in range(6):
        try:
            await client.fetch_time()
            seen.append("ok")
        except ccxt.ExchangeNotAvailable:
            seen.append("502")
        await asyncio.sleep(5)

    assert seen == ["ok", "ok", "502", "502", "ok", "ok"]  # at 0, 5, 10, 15, 20, 25 s after planning


async def test_a_maintenance_window_answers_every_request_and_ends(binance_venue: RunningBinance) -> None:
    client = binance_venue.rest_client()
    await client.load_markets()
    binance_venue.faults.add(Fault("maintenance", RestTarget(ANY, ANY), a.gateway_page(503),
                                   During(start_ms=0, end_ms=60_000)))

    for call in (client.fetch_time(), client.fetch_balance(), client.create_order(BTC, "market", "buy", 0.01)):
        with pytest.raises(ccxt.ExchangeNotAvailable):
            await call
    assert [p for p in binance_venue.engine.positions(binance_venue.account.account_id) if p.size] == []

    await asyncio.sleep(60)
    assert (await client.create_order(BTC, "market", "buy", 0.01))["status"] == "closed"


def probability_run(seed: int) -> list[bool]:
    plan = FaultPlan(now_ms=lambda: 0, rng=random.Random(seed))
    plan.add(Fault("flaky", RestTarget("GET", "/x"), DropBeforeApply(), WithProbability(0.3)))
    return [plan.pick("GET", "/x") is not None for _ in range(200)]


def test_a_probability_is_drawn_from_the_plans_seeded_rng() -> None:
    first = probability_run(7)
    assert first == probability_run(7)  # same seed, same faults
    assert first != probability_run(8)
    assert 40 <= sum(first) <= 80  # about 30% of 200


async def test_probability_faults_replay_identically_through_ccxt(simulation: Simulation) -> None:
    # The venue's own plan is seeded from the run's seed: two venues of one seed fail the same calls.
    results = []
    for _ in range(2):
        async with simulation.serve_bybit() as venue:
            client = venue.rest_client()
            await client.load_markets()
            venue.faults.add(Fault("flaky time", RestTarget("GET", "/v5/market/time"), a.gateway_page(502),
                                   WithProbability(0.5)))
            seen = []
            for _ in range(20):
                try:
                    await client.fetch_time()
                    seen.append(True)
                except ccxt.ExchangeNotAvailable:
                    seen.append(False)
            results.append(seen)
    assert results[0] == results[1] and 3 <= results[0].count(False) <= 17


def test_consistency_faults_take_windows_too() -> None:
    now = [0]
    plan = FaultPlan(now_ms=lambda: now[0])
    plan.add(Fault("lag", QueryTarget("orders"), VisibilityLag(ms=5_000), During(start_ms=0, end_ms=1_000)))
    assert plan.hidden_from_queries(created_ms=0, now_ms=500, order_id="o")
    now[0] = 1_500
    assert not plan.hidden_from_queries(created_ms=1_000, now_ms=1_500, order_id="o")  # the window is over


async def test_a_truncated_answer_reaches_ccxt_as_an_empty_result_not_an_error(binance_venue: RunningBinance) -> None:
    # ccxt parses an unreadable 200 body as nothing at all: an order without an id, an empty position
    # list. Only a client that checks the raw answer can tell this from "no positions".
    client = binance_venue.rest_client()
    await client.load_markets()
    binance_venue.faults.add(Fault("cut", RestTarget("POST", "/fapi/v1/order"), TruncatedAnswer(keep_bytes=40)))
    binance_venue.faults.add(Fault("cut list", RestTarget("GET", "/fapi/v3/positionRisk"), TruncatedAnswer(40)))

    order = await client.create_order(BTC, "market", "buy", 0.01)
    positions = await client.fetch_positions()

    assert (order["id"], order["status"], client.last_http_response[:12]) == (None, None, '[{"symbol": ')
    assert positions == []
    held = [p.size for p in binance_venue.engine.positions(binance_venue.account.account_id) if p.size]
    assert held == [Decimal("0.01")]  # applied all along


def test_triggers_and_new_effects_read_from_tables() -> None:
    window = fault_from_table({"name": "w", "method": "*", "path": "*", "effect": "answer", "answer": "gateway-page",
                               "status": 503, "start_ms": 1_000, "end_ms": 5_000})
    assert (window.target, window.trigger) == (RestTarget(ANY, ANY), During(1_000, 5_000))
    assert fault_from_table({"name": "p", "method": "GET", "path": "/x", "effect": "drop-before-apply",
                             "probability": 0.25}).trigger == WithProbability(0.25)
    assert fault_from_table({"name": "t", "method": "POST", "path": "/x", "effect": "truncated-answer",
                             "keep_bytes": 10}).effect == TruncatedAnswer(10)
    assert fault_from_table({"name": "o", "method": "GET", "path": "/x", "effect": "drop-before-apply",
                             "on_call": 2}).trigger == OnCall(2)
    with pytest.raises(FaultSpecError, match="one trigger per fault"):
        fault_from_table({"name": "x", "method": "GET", "path": "/x", "effect": "drop-before-apply", "on_call": 2,
                          "probability": 0.5})
    with pytest.raises(FaultSpecError, match=r"0 < p <= 1"):
        fault_from_table({"name": "x", "method": "GET", "path": "/x", "effect": "drop-before-apply",
                          "probability": 1.5})


def test_plans_without_a_clock_or_rng_refuse_triggers_that_need_them() -> None:
    with pytest.raises(ValueError, match="During needs a plan with the venue's clock"):
        FaultPlan().add(Fault("w", RestTarget("GET", "/x"), DropBeforeApply(), During(0, 10)))
    with pytest.raises(ValueError, match="WithProbability needs a plan with a seeded rng"):
        FaultPlan().add(Fault("p", RestTarget("GET", "/x"), DropBeforeApply(), WithProbability(0.5)))


def test_latency_jitter_is_drawn_from_the_seeded_rng_within_its_bounds() -> None:
    def delays(seed: int) -> list[int]:
        plan = FaultPlan(now_ms=lambda: 0, rng=random.Random(seed))
        return [plan.delay_ms(Latency(ms=100, jitter_ms=50)) for _ in range(100)]

    first = delays(3)
    assert first == delays(3) and first != delays(4)
    assert min(first) >= 100 and max(first) <= 150 and len(set(first)) > 10
    assert FaultPlan().delay_ms(Latency(ms=100)) == 100  # no jitter, no rng needed


def test_query_and_market_faults_refuse_a_call_count() -> None:
    with pytest.raises(ValueError, match="not on the n-th call; limit it with During"):
        Fault("lag", QueryTarget("orders"), VisibilityLag(ms=1_000), OnCall(3))
    with pytest.raises(FaultSpecError, match="not on the n-th call"):
        fault_from_table({"name": "lag", "queries": "orders", "effect": "visibility-lag", "lag_ms": 1_000,
                          "on_call": 2})


def test_a_probable_lag_is_drawn_once_per_order_so_a_hidden_order_stays_hidden() -> None:
    plan = FaultPlan(now_ms=lambda: 0, rng=random.Random(5))
    plan.add(Fault("lag", QueryTarget("orders"), VisibilityLag(ms=10_000), WithProbability(0.5)))
    for order in (f"o{n}" for n in range(20)):
        seen = {plan.hidden_from_queries(created_ms=0, now_ms=t, order_id=order) for t in range(0, 9_000, 1_000)}
        assert len(seen) == 1, order  # the same answer on every query within the lag
