"""Funding on the Bybit venue through unmodified ccxt: executions of type Funding, the wallet, the rate history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from simulator.server import RunningVenue
from tests.simulator.bybit import rawhttp

pytestmark = pytest.mark.virtual_time
ETH = "ETH/USDT:USDT"
EIGHT_HOURS_S = 8 * 3600


async def test_a_held_long_pays_funding_listed_and_pushed_as_bybit_does(bybit_venue: RunningVenue,
                                                                        bybit_rest: Any, bybit_pro: Any) -> None:
    await bybit_rest.create_order(ETH, "market", "buy", 2)
    before = (await bybit_rest.fetch_balance())["USDT"]["total"]
    watching = asyncio.ensure_future(bybit_pro.watch_my_trades())
    await bybit_venue.venue.streams.wait_subscribed("execution")
    bybit_venue.engine.set_funding_rate("ETHUSDT", "0.0002")

    await asyncio.sleep(EIGHT_HOURS_S - bybit_venue.engine.now_ms() % (EIGHT_HOURS_S * 1000) / 1000)

    # The payment is pushed on the execution topic; ccxt.pro leaves execType Funding out of a bot's trades
    # (its watchMyTrades execType option) but still wakes the watcher, with nothing new.
    assert await asyncio.wait_for(watching, 5) == []
    assert await bybit_rest.fetch_my_trades(ETH) != [] and all(
        t["info"]["execType"] == "Trade" for t in await bybit_rest.fetch_my_trades(ETH))
    [funding] = await bybit_rest.fetch_funding_history(ETH)
    assert (funding["amount"], funding["code"], funding["info"]["orderType"]) == (1.2, "USDT", "UNKNOWN")
    after = (await bybit_rest.fetch_balance())["USDT"]["total"]
    assert after == pytest.approx(before - 1.2)
    [rate] = await bybit_rest.fetch_funding_rate_history(ETH)
    assert (rate["fundingRate"], rate["timestamp"]) == (0.0002, funding["timestamp"])
    info = (await bybit_rest.fetch_funding_rate(ETH))["info"]
    assert info["fundingRate"] == "0.0002"
    _, body = await rawhttp.get(bybit_venue, "/v5/execution/list", {"category": "linear", "execType": "Funding"})
    [row] = body["result"]["list"]
    assert (row["execQty"], row["execPrice"], row["feeRate"], row["side"], row["createType"], row["closedSize"]) == \
        ("2", "3000", "0.0002", "Buy", "", "0")
    _, body = await rawhttp.get(bybit_venue, "/v5/market/funding/history",
                                {"category": "linear", "symbol": "ETHUSDT", "startTime": "1"}, signed=False)
    assert body["retCode"] == 10001  # startTime alone is refused


async def test_a_venue_started_mid_millisecond_settles_on_the_instant(simulation: Any) -> None:
    from simulator.engine import Side
    from tests.simulator.engine.helpers import market

    await asyncio.sleep(0.0007)  # the world starts on an instant; the venue comes up 0.7 ms later
    async with simulation.serve_bybit() as venue:
        engine, account = venue.engine, venue.account.account_id
        instant = (engine.now_ms() // (EIGHT_HOURS_S * 1000) + 1) * EIGHT_HOURS_S * 1000
        await asyncio.sleep((instant * 1_000_000 - simulation.clock.time_ns()) / 1e9 + 0.0003)  # 0.3 ms after it
        engine.place_order(account, market("ETHUSDT", Side.SELL, "2"))  # a short opened after the instant
        await asyncio.sleep(0.002)
        assert [e for e in engine.orders.executions_for(account) if not e.is_trade] == []
        _, body = await rawhttp.get(venue, "/v5/market/funding/history", {"category": "linear", "symbol": "ETHUSDT"},
                                    signed=False)
        assert [row["fundingRateTimestamp"] for row in body["result"]["list"]] == [str(instant)]
