"""Binance's rate limits through unmodified ccxt: weight headers, 429 then the 418 ban, -1015 on orders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
import pytest_asyncio

from simulator.binance.limits import RateLimits
from simulator.server import RunningBinance, binance_engine, serve_binance
from simulator.simulation import Simulation

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"
DUAL_WEIGHT = 30  # GET /fapi/v1/positionSide/dual, what fetch_position_mode asks


@pytest_asyncio.fixture
async def limited(simulation: Simulation) -> AsyncIterator[RunningBinance]:
    limits = RateLimits(orders_per_10s=3, violations_before_ban=2)
    async with serve_binance(engine=binance_engine(clock=simulation.clock, seed=3), rate_limits=limits) as running:
        yield running
        assert not running.venue.internal_errors, running.venue.internal_errors


async def unpaced(venue: RunningBinance) -> Any:
    client = venue.rest_client(enableRateLimit=False)
    await client.load_markets()
    return client


async def test_the_used_weight_and_order_counts_come_back_in_headers(binance_venue: RunningBinance) -> None:
    client = await unpaced(binance_venue)
    await asyncio.sleep(60 - binance_venue.engine.now_ms() % 60_000 / 1000)  # a fresh minute window

    await client.fetch_balance()  # account: 5
    assert client.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "5"
    await client.fetch_my_trades(BTC)  # userTrades: 5
    assert client.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "10"
    await client.create_order(BTC, "market", "buy", 0.01)  # weight 0, one order
    await client.create_order(BTC, "market", "sell", 0.01, None, {"reduceOnly": True})
    headers = client.last_response_headers
    assert (headers["X-MBX-USED-WEIGHT-1M"], headers["X-MBX-ORDER-COUNT-10S"], headers["X-MBX-ORDER-COUNT-1M"]) == (
        "10", "2", "2")
    resting = await client.create_order(BTC, "limit", "buy", 0.01, 58000)
    await client.edit_order(resting["id"], BTC, "limit", "buy", 0.01, 58100)  # a modify: weight 0, one order
    headers = client.last_response_headers
    assert (headers["X-MBX-USED-WEIGHT-1M"], headers["X-MBX-ORDER-COUNT-10S"], headers["X-MBX-ORDER-COUNT-1M"]) == (
        "10", "4", "4")
    client.options["fetchOpenOrders"] = {"warnWithoutSymbol": False}
    await client.fetch_open_orders()  # 40 without a symbol
    assert client.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "50"


async def test_past_the_weight_limit_429_with_retry_after_then_a_418_ban_that_grows(limited: RunningBinance) -> None:
    client = await unpaced(limited)
    await asyncio.sleep(60 - limited.engine.now_ms() % 60_000 / 1000 + 30)  # 30 s into a fresh minute
    for _ in range(2400 // DUAL_WEIGHT):
        await client.fetch_position_mode(BTC)

    with pytest.raises(ccxt.DDoSProtection, match="429.*-1003.*current limit of IP.* is 2400"):
        await client.fetch_position_mode(BTC)
    assert client.last_response_headers["Retry-After"] == "30"  # until the minute window resets

    with pytest.raises(ccxt.DDoSProtection, match="429"):
        await client.fetch_position_mode(BTC)  # the second violation: still only limited
    banned_at = limited.engine.now_ms()
    with pytest.raises(ccxt.DDoSProtection, match=f"418.*banned until {banned_at + 120_000}"):
        await client.fetch_time()  # a third request in the same window: banned for 2 minutes
    assert client.last_response_headers["Retry-After"] == "120"

    await asyncio.sleep(119)
    with pytest.raises(ccxt.DDoSProtection, match="418"):
        await client.fetch_time()
    await asyncio.sleep(1)
    assert await client.fetch_time() == limited.engine.now_ms()  # the ban is over

    for _ in range(2400 // DUAL_WEIGHT - 1):  # offend again (fetch_time used 1): the next ban lasts twice as long
        await client.fetch_position_mode(BTC)
    for _ in range(2):
        with pytest.raises(ccxt.DDoSProtection, match="429"):
            await client.fetch_position_mode(BTC)
    with pytest.raises(ccxt.DDoSProtection, match="418"):
        await client.fetch_position_mode(BTC)
    assert client.last_response_headers["Retry-After"] == "240"


async def test_too_many_new_orders_is_minus_1015_until_the_window_passes(limited: RunningBinance) -> None:
    client = await unpaced(limited)
    await asyncio.sleep(10 - limited.engine.now_ms() % 10_000 / 1000)
    for _ in range(3):
        await client.create_order(BTC, "market", "buy", 0.01)

    with pytest.raises(ccxt.DDoSProtection, match="-1015.*3 orders per TEN_SECONDS"):
        await client.create_order(BTC, "market", "buy", 0.01)
    held = limited.engine.positions(limited.account.account_id)
    assert [p.size for p in held if p.size] == [Decimal("0.03")]  # the refused order never reached the book

    await asyncio.sleep(10)
    await client.create_order(BTC, "market", "buy", 0.01)


async def test_ccxts_own_pacing_stays_under_the_limit(binance_venue: RunningBinance) -> None:
    client = binance_venue.rest_client()  # rate limiter on, as shipped
    await client.load_markets()
    started = binance_venue.engine.now_ms()
    for _ in range(100):  # 3,000 weight: more than a minute allows
        await client.fetch_position_mode(BTC)
    assert binance_venue.engine.now_ms() - started >= 60_000


async def test_exchange_info_publishes_the_limits_the_venue_enforces(limited: RunningBinance) -> None:
    client = await unpaced(limited)
    info = await client.fapiPublicGetExchangeInfo()
    assert [(r["rateLimitType"], r["intervalNum"], r["limit"]) for r in info["rateLimits"]] == [
        ("REQUEST_WEIGHT", 1, 2400), ("ORDERS", 1, 1200), ("ORDERS", 10, 3)]
