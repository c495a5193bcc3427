"""A reference run that moves every part of the runtime: the yardstick for determinism and speed.

A client set up as the bot sets up its own (``bot.adapters.bybit.CLIENT_OPTIONS``: linear markets,
ccxt's limiter waking every 5 ms; one ccxt.pro client for REST and the stream) reads the price,
places a limit buy below the market and polls for the fill with backoff (0.5 s x 1.5) while the
market drifts down onto the limit. It watches the fill arrive over ccxt.pro, protects the long with a
stop, and waits five minutes like a position synchronizer would (ccxt.pro keeps its socket alive
meanwhile). Then it reconciles against the venue, takes the stop off, closes and confirms the close.
20 HTTP round trips, a few dozen WebSocket frames, a little over 300 s of venue time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.adapters.bybit import CLIENT_OPTIONS
from simulator.simulation import Simulation

NAME = "reference-run"
SYMBOL = "BTC/USDT:USDT"
VENUE_SYMBOL = "BTCUSDT"
SUBJECT = "client"
BACKOFF_START_S = 0.5
BACKOFF_FACTOR = 1.5
POLLS = 10
SYNC_WAIT_S = 300.0
# The market steps down 50 USDT a second from 60000: the 59350 limit fills at +13 s, the seventh
# poll (+16.7 s with the limiter's pacing) sees it, and the drift stops there, well above the stop.
PRICE_STEP = Decimal(50)
LIMIT_PRICE = 59350
STOP_PRICE = 58500
QTY = 0.01


@dataclass(frozen=True)
class Outcome:
    simulated_ms: int
    round_trips: int
    ws_frames: int
    polls_until_filled: int
    trades: int


async def reference_run(sim: Simulation, client_options: Mapping[str, Any] | None = None) -> Outcome:
    """The run, with the bot's client options unless ``client_options`` (ccxt config) says otherwise."""
    started_ms = sim.now_ms()
    trace = sim.trace
    async with sim.serve_bybit() as venue:
        client: Any = venue.pro_client(**dict(CLIENT_OPTIONS if client_options is None else client_options))
        await client.load_markets()
        watching = asyncio.ensure_future(client.watch_orders(SYMBOL))
        await venue.venue.streams.wait_subscribed("order")
        ticker = await client.fetch_ticker(SYMBOL)
        order = await client.create_order(SYMBOL, "limit", "buy", QTY, LIMIT_PRICE)
        trace.record(SUBJECT, "order.placed", id=order["id"], price=LIMIT_PRICE, last=ticker["last"])
        drift = asyncio.ensure_future(_drift_down(venue.engine))

        polls = 0
        delay = BACKOFF_START_S
        status = "open"
        while status != "closed" and polls < POLLS:
            await asyncio.sleep(delay)
            polls += 1
            seen = await client.fetch_order(order["id"], SYMBOL, {"acknowledged": True})
            status = seen["status"]
            trace.record(SUBJECT, "order.polled", attempt=polls, status=status, filled=seen["filled"])
            delay *= BACKOFF_FACTOR
        drift.cancel()
        pushed = [o["status"] for o in await watching]
        trace.record(SUBJECT, "order.watched", statuses=pushed)
        stop = await client.create_order(SYMBOL, "market", "sell", QTY, None, {"stopLossPrice": STOP_PRICE})
        trace.record(SUBJECT, "stop.placed", id=stop["id"], trigger=STOP_PRICE)

        await asyncio.sleep(SYNC_WAIT_S)
        positions = [p for p in await client.fetch_positions([SYMBOL]) if p["contracts"]]
        stops = await client.fetch_open_orders(SYMBOL, None, None, {"trigger": True})
        balance = await client.fetch_balance()
        trace.record(SUBJECT, "synced", positions=[(p["side"], p["contracts"], p["entryPrice"]) for p in positions],
                     stops=[o["id"] for o in stops], used=balance["USDT"]["used"], total=balance["USDT"]["total"])

        await client.cancel_order(stop["id"], SYMBOL, {"trigger": True})
        close = await client.create_order(SYMBOL, "market", "sell", QTY, None, {"reduceOnly": True})
        closed_order = await client.fetch_order(close["id"], SYMBOL, {"acknowledged": True})
        trades = await client.fetch_my_trades(SYMBOL)
        closed = await client.fetch_closed_orders(SYMBOL)
        trace.record(SUBJECT, "closed", status=closed_order["status"], trades=len(trades), orders=len(closed))
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
