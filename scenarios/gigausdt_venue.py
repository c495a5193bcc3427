"""The GIGAUSDT incident's venue-side mechanics, replayed through unmodified ccxt.

What happened (../shared/incidents): a market short filled, Bybit answered the create with
ids only, and every ``fetch_order`` the bot retried raised ccxt's "last 500 orders" guard,
so the bot never saw the fill and rolled back while the short stayed open. This replay
shows each of those facts against the local venue, through ccxt alone; the flow's own part
(rollback, phantom, synchronizer) is the scenario ``gigausdt-phantom-position``.
"""

from __future__ import annotations

from typing import Any

import ccxt

from scenarios.replay import Replay
from simulator.server import serve_bybit
from virtualtime.trace import NO_TRACE, Recorder

NAME = "gigausdt-venue-mechanics"
SYMBOL = "GIGA/USDT:USDT"
RETRIES = 5


async def replay(seed: int = 0, trace: Recorder = NO_TRACE) -> Replay:
    out = Replay()
    async with serve_bybit(seed=seed, trace=trace) as venue:
        def note(text: str) -> None:
            out.timeline.append(f"{venue.engine.now_ms()}  {text}")

        client: Any = venue.rest_client()
        await client.load_markets()
        created = await client.create_order(SYMBOL, "market", "sell", 920)
        note(f"create_order -> id={created['id']} side={created['side']} status={created['status']}")
        out.findings["create answers with ids only"] = created["side"] is None and created["status"] is None

        guarded = 0
        for attempt in range(1, RETRIES + 1):
            try:
                await client.fetch_order(created["id"], SYMBOL)
                note(f"fetch_order attempt {attempt} -> found")
            except ccxt.ArgumentsRequired as error:
                guarded += 1
                note(f"fetch_order attempt {attempt} -> ArgumentsRequired: {str(error)[:70]}...")
        out.findings["every fetch_order retry hits ccxt's 500-order guard"] = guarded == RETRIES

        positions = await client.fetch_positions([SYMBOL])
        live = [p for p in positions if p["contracts"]]
        for p in live:
            note(f"fetch_positions -> {p['side']} {p['contracts']} @ {p['entryPrice']} (the fill the bot never saw)")
        out.findings["the short is live on the venue"] = [(p["side"], p["contracts"]) for p in live] == [("short", 920.0)]

        found = await client.fetch_order(created["id"], SYMBOL, {"acknowledged": True})
        note(f"fetch_order acknowledged=True -> status={found['status']} side={found['side']} filled={found['filled']}")
        out.findings["acknowledged lookup sees the filled order"] = (found["status"], found["side"]) == ("closed", "sell")
        assert not venue.venue.internal_errors, venue.venue.internal_errors
    return out
