"""A reference run that moves every part of the runtime: the yardstick for determinism and speed.

A client opens a long with a limit order below the market, polls for the fill with backoff
(0.5 s x 1.5) while the market drifts down onto the limit, watches the fill arrive over
ccxt.pro, waits five minutes like a position synchronizer would (ccxt.pro keeps its sockets
alive meanwhile), reconciles against the venue and closes. About 20 HTTP round trips, a few
dozen WebSocket frames, a little over 300 s of venue time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulator.simulation import Simulation

NAME = "reference-run"
SYMBOL = "BTC/USDT:USDT"
VENUE_SYMBOL = "BTCUSDT"
SUBJECT = "client"
BACKOFF_START_S = 0.5
BACKOFF_FACTOR = 1.5
POLLS = 8
SYNC_WAIT_S = 300.0
# The market steps down 50 USDT a second from 60000: the 59800 limit fills at +4 s, mid-backoff.
PRICE_STEP = Decimal(50)
LIMIT_PRICE = 59800


@dataclass(frozen=True)
class Outcome:
    simulated_ms: int
    round_trips: int
    ws_frames: int
    polls_until_filled: int
    trades: int


async def reference_run(sim: Simulation, client_options: Mapping[str, Any] | None = None) -> Outcome:
    """The run, with ccxt's default options unless ``client_options`` (ccxt config) says otherwise."""
    started_ms = sim.now_ms()
    trace = sim.trace
    async with sim.serve_bybit() as venue:
        rest: Any = venue.rest_client(**(client_options or {}))
        pro: Any = venue.pro_client(**(client_options or {}))
        await rest.load_markets()
        pro.markets, pro.markets_by_id = rest.markets, rest.markets_by_id  # one catalogue fetch for both

        watching = asyncio.ensure_future(pro.watch_orders(SYMBOL))
        await venue.venue.streams.wait_subscribed("order")
        order = await rest.create_order(SYMBOL, "limit", "buy", 0.01, LIMIT_PRICE)
        trace.record(SUBJECT, "order.placed", id=order["id"], price=LIMIT_PRICE)
        drift = asyncio.ensure_future(_drift_down(venue.engine))

        polls = 0
        delay = BACKOFF_START_S
        status = "open"
        while status != "closed" and polls < POLLS:
            await asyncio.sleep(delay)
            polls += 1
            seen = await rest.fetch_order(order["id"], SYMBOL, {"acknowledged": True})
            status = seen["status"]
            trace.record(SUBJECT, "order.polled", attempt=polls, status=status, filled=seen["filled"])
            delay *= BACKOFF_FACTOR
        drift.cancel()
        pushed = [o["status"] for o in await watching]
        trace.record(SUBJECT, "order.watched", statuses=pushed)

        await asyncio.sleep(SYNC_WAIT_S)
        positions = [p for p in await rest.fetch_positions([SYMBOL]) if p["contracts"]]
        trace.record(SUBJECT, "synced", positions=[(p["side"], p["contracts"], p["entryPrice"]) for p in positions])
        balance = await rest.fetch_balance()
        trace.record(SUBJECT, "balance", used=balance["USDT"]["used"], total=balance["USDT"]["total"])

        await rest.create_order(SYMBOL, "market", "sell", 0.01, None, {"reduceOnly": True})
        trades = await rest.fetch_my_trades(SYMBOL)
        closed = await rest.fetch_closed_orders(SYMBOL)
        trace.record(SUBJECT, "closed", trades=len(trades), orders=len(closed))
        errors = list(venue.venue.internal_errors)
    if errors:
        raise AssertionError(f"the venue hit internal errors during the reference run: {errors}")
    kinds = [r.kind for r in trace.records]
    return Outcome(
        simulated_ms=sim.now_ms() - started_ms,
        round_trips=kinds.count("rest.response"),
        ws_frames=kinds.count("ws.in") + kinds.count("ws.out"),
        polls_until_filled=polls,
        trades=len(trades),
    )


async def _drift_down(engine: Any) -> None:
    price = Decimal(60000)
    while True:
        await asyncio.sleep(1)
        price -= PRICE_STEP
        engine.set_price(VENUE_SYMBOL, price)
