"""Our execution core (``bot``) as a scenario subject: its journal goes to the run's trace."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.adapters.bybit import BybitVenue
from bot.clock import SystemClock
from bot.opener import PositionOpener
from bot.reconcile import SyncRules
from bot.repository import Repository
from bot.synchronizer import Synchronizer
from bot.values import IntentId, Side
from simulator.server import RunningVenue
from virtualtime.trace import Recorder

ACTOR = "bot"
STOP_FRACTION = Decimal("0.02")


class OurBot:
    name = "bot"

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._parts: tuple[BybitVenue, Repository, PositionOpener, Synchronizer] | None = None

    async def start(self, venue: RunningVenue, workdir: Path, trace: Recorder) -> None:
        def tell(kind: str, intent_id: IntentId | None, data: dict[str, Any]) -> None:
            trace.record(ACTOR, kind, **({"intent": intent_id} if intent_id else {}), **data)

        clock, rng = SystemClock(), random.Random(self._seed)
        adapter = BybitVenue(api_key=venue.api_key, secret=venue.api_secret, rest_url=venue.base_url)
        await adapter.start()
        await venue.venue.streams.wait_subscribed("order")
        repo = Repository.open(str(workdir / "bot.sqlite3"), clock, on_event=tell)
        opener = PositionOpener(adapter, repo, clock=clock, rng=rng)
        sync = Synchronizer(adapter, repo, opener, rules=SyncRules(client_prefix=opener.prefix,
                                                                   stop_fraction=STOP_FRACTION),
                            clock=clock, rng=rng)
        self._parts = (adapter, repo, opener, sync)

    async def open(self, symbol: str, side: str, qty: Decimal) -> None:
        await self._require()[2].open(symbol, Side(side), qty, STOP_FRACTION)

    async def sync_pass(self) -> None:
        _, _, opener, sync = self._require()
        await opener.resume()
        await sync.cycle()

    def db_positions(self) -> list[tuple[str, str, Decimal]]:
        return [(p.symbol, p.side.value, p.qty) for p in self._require()[1].open_positions()]

    async def close(self) -> None:
        if self._parts is not None:
            adapter, repo, _, _ = self._parts
            await adapter.close()
            repo.close()

    def _require(self) -> tuple[BybitVenue, Repository, PositionOpener, Synchronizer]:
        if self._parts is None:
            raise RuntimeError("the bot subject was not started")
        return self._parts
