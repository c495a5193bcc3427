"""Hypothesis: the bot opens a position under generated REST faults and price moves, then supervises.

Faults land anywhere in the open and the first supervisor passes. Throughout, no phantom outlives
a short grace and no held position ever loses its stop. Once faults stop and two clean passes ran: the database holds
exactly the venue's exposure, every held position is under exactly one stop of ours, no intent
sent more than one entry, and no intent is left unfinished.
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.adapters.bybit import BybitVenue
from bot.clock import SystemClock
from bot.errors import BotError
from bot.opener import PositionOpener
from bot.reconcile import SyncRules
from bot.repository import Repository
from bot.synchronizer import Synchronizer
from bot.values import Side
from scenarios.invariants import Snapshot, Watch, phantoms
from scenarios.runner import venue_snapshot
from simulator.engine.events import EngineEvent, Executed
from simulator.faults import (
    CloseStream,
    DelayFrame,
    DropAfterApply,
    DropBeforeApply,
    DropFrame,
    Fault,
    HttpAnswer,
    OnCall,
    PositionLag,
    QueryTarget,
    RestTarget,
    StreamTarget,
    VisibilityLag,
)
from simulator.simulation import simulation

GIGA, VENUE_GIGA = "GIGA/USDT:USDT", "GIGAUSDT"
# Venue exposure the database neither holds nor records as being entered (a phantom) may last only
# while a fill is being recorded; removing a held position's stop is never allowed (no grace).
GRACE_MS = 5_000
TARGETS = [
    RestTarget("POST", "/v5/order/create"),
    RestTarget("GET", "/v5/order/realtime"),
    RestTarget("GET", "/v5/order/history"),
    RestTarget("GET", "/v5/position/list"),
]
EFFECTS = [
    DropBeforeApply(),
    DropAfterApply(),
    HttpAnswer(502, "<html>502 Bad Gateway</html>"),
    HttpAnswer(429, "Too Many Requests", "text/plain"),
    HttpAnswer(200, "", "application/json"),
]
STREAM_TARGETS = [StreamTarget("/v5/private", "order"), StreamTarget("/v5/private")]
STREAM_EFFECTS = [DropFrame(), DelayFrame(ms=3_000), CloseStream()]
calls = st.integers(1, 6) | st.integers(7, 30)
faults = st.lists(
    st.tuples(st.sampled_from(TARGETS), st.sampled_from(EFFECTS), calls, st.integers(1, 4))
    | st.tuples(st.sampled_from(STREAM_TARGETS), st.sampled_from(STREAM_EFFECTS), calls, st.integers(1, 4)),
    max_size=5,
)
# Standing conditions of the venue's read side, on for the whole run (or not at all).
read_sides = st.sampled_from([None, VisibilityLag(ms=4_000), PositionLag(ms=20_000)])
EMPTY_LIST = HttpAnswer(200, json.dumps({"retCode": 0, "retMsg": "OK", "time": 1, "retExtInfo": {},
                                         "result": {"category": "linear", "list": [], "nextPageCursor": ""}}),
                        "application/json")
# After the fill the price may stay, jump past a short's stop (the stop is refused or fires), or fall.
moves = st.sampled_from([None, "0.0210", "0.0190"])


def run(plan: list[tuple[object, object, int, int]], side: Side, move: str | None, seed: int,
        read_side: VisibilityLag | PositionLag | None = None) -> dict[str, object]:
    with simulation(seed=seed) as sim, tempfile.TemporaryDirectory() as workdir:
        async def main() -> dict[str, object]:
            async with sim.serve_bybit() as running:
                for i, (target, effect, n, times) in enumerate(plan):
                    running.faults.add(Fault(f"f{i}", target, effect, OnCall(n, times)))  # type: ignore[arg-type]
                if read_side is not None:
                    books = "orders" if isinstance(read_side, VisibilityLag) else "positions"
                    running.faults.add(Fault("read side", QueryTarget(books), read_side))
                if move is not None:
                    loop = asyncio.get_running_loop()
                    moved: list[bool] = []

                    def on_fill(batch: list[EngineEvent]) -> None:
                        if not moved and any(isinstance(e, Executed) for e in batch):
                            moved.append(True)
                            loop.call_soon(running.engine.set_price, VENUE_GIGA, move)

                    running.engine.subscribe(on_fill)  # type: ignore[arg-type]
                account = running.account.account_id
                watch = Watch(grace_ms=GRACE_MS, checks={"phantom position": phantoms})

                def snapshot() -> Snapshot:
                    return venue_snapshot(
                        running.engine, account, sim.now_ms(),
                        tuple(sorted((q.symbol, q.side.value, q.qty) for q in repo.open_positions())),
                        frozenset(r.intent.symbol for r in repo.unfinished()))

                async def monitor() -> None:
                    while True:
                        watch.observe(snapshot())
                        await asyncio.sleep(0.25)

                clock, rng = SystemClock(), random.Random(seed)
                venue = BybitVenue(api_key=running.api_key, secret=running.api_secret, rest_url=running.base_url)
                await venue.start()
                repo = Repository.open(str(Path(workdir) / "bot.sqlite3"), clock)
                opener = PositionOpener(venue, repo, clock=clock, rng=rng)
                sync = Synchronizer(venue, repo, opener, rules=SyncRules("hb", Decimal("0.02")), clock=clock, rng=rng)
                watching = asyncio.ensure_future(monitor())
                try:
                    try:
                        await opener.open(GIGA, side, Decimal(920), Decimal("0.02"))
                    except BotError:
                        pass  # judged by the end state, not by how the first attempt went
                    for passes in range(6):  # faults may hit the first passes too; the last two run clean
                        if passes == 4:
                            running.faults.clear()
                        await asyncio.sleep(30)
                        await opener.resume()
                        try:
                            await sync.cycle()
                        except BotError:
                            pass
                    watching.cancel()
                    watch.observe(snapshot())
                    held = sorted((GIGA, "long" if p.size > 0 else "short", abs(p.size))
                                  for p in running.engine.positions(account) if p.size)
                    stops = [o for o in running.engine.orders.open_for(account)
                             if o.trigger_price is not None and (o.client_order_id or "").startswith("hb")]
                    entries = [o for o in running.engine.orders.all_for(account)
                               if (o.client_order_id or "").endswith("-e")]
                    return {
                        "venue": held,
                        "database": sorted((p.symbol, p.side.value, p.qty) for p in repo.open_positions()),
                        "stops": [(o.side.value, o.qty) for o in stops],
                        "entries": len(entries),
                        "unfinished": [r.state.value for r in repo.unfinished()],
                        "internal_errors": list(running.venue.internal_errors),
                        "violations": [v.line(sim.start_ms) for v in watch.finish()],
                    }
                finally:
                    watching.cancel()
                    await asyncio.gather(watching, return_exceptions=True)
                    await venue.close()
                    repo.close()

        return sim.run(main)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(plan=faults, side=st.sampled_from(list(Side)), move=moves, read_side=read_sides)
# Always tried: the first sync pass reads an empty 200 or a well-formed empty list for the positions.
@example(plan=[(TARGETS[3], EFFECTS[4], 2, 1)], side=Side.SHORT, move=None, read_side=None)
@example(plan=[(TARGETS[3], EMPTY_LIST, 2, 1)], side=Side.LONG, move=None, read_side=None)
# Found by this test: a rollback that believed a stale "flat" list forgot a live long.
@example(plan=[], side=Side.LONG, move="0.0190", read_side=PositionLag(ms=20_000))
def test_under_any_rest_faults_the_bot_ends_agreed_and_protected(  # noqa: ANN001
    plan, side: Side, move: str | None, read_side: VisibilityLag | PositionLag | None
) -> None:
    end = run(plan, side, move, seed=1, read_side=read_side)

    assert end["internal_errors"] == []
    assert end["violations"] == [], end
    assert end["unfinished"] == [], end
    assert end["database"] == end["venue"], end
    assert end["entries"] <= 1, end
    held = end["venue"]
    assert isinstance(held, list)
    if held:
        [(_, held_side, size)] = held
        exit_side = "Sell" if held_side == "long" else "Buy"
        assert [s for s in end["stops"] if s[0] == exit_side and s[1] >= size] == end["stops"] != [], end  # type: ignore[union-attr,index]
    else:
        assert end["stops"] == [], end
