"""Our execution core as a scenario subject: the assembled ``bot.app.Bot``, its journal going to the trace.

It runs as in production: the supervisor passes (resume, reconcile) on startup and every 30 s in
the background, besides whatever the scenario tells it to do.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from bot.app import Bot
from bot.config import parse
from bot.lifecycle import IntentState
from bot.repository import Repository
from bot.values import IntentId, Side
from scenarios.invariants import unified
from simulator.catalog import binance_instruments, default_instruments
from simulator.server import RunningBinance, RunningVenue
from virtualtime.trace import NO_TRACE, Recorder

ACTOR = "bot"
T = TypeVar("T")
STREAM_WAIT_S = 30.0


class OurBot:
    name = "bot"

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._boots = 0
        self._bot: Bot | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._venue: RunningVenue | RunningBinance | None = None
        self._workdir = Path(".")
        self._trace: Recorder = NO_TRACE
        self._reads: dict[tuple[str, int, int], Any] = {}

    async def start(self, venue: RunningVenue | RunningBinance, workdir: Path, trace: Recorder) -> None:
        self._venue, self._workdir, self._trace = venue, workdir, trace
        binance = isinstance(venue, RunningBinance)
        listed = binance_instruments() if binance else default_instruments()
        symbols = [{"name": unified(str(i.symbol)), "max_qty": "1000000000"} for i, _ in listed]
        config = parse({
            "venue": {"name": "binance" if binance else "bybit", "rest_url": venue.base_url, "api_key": venue.api_key,
                      "api_secret": venue.api_secret},
            "bot": {"database": "bot.sqlite3"},
            "risk": {"max_open_positions": 10, "stop_fraction": "0.02"},
            "intervals": {"sync_s": 30},
            "symbol": symbols,
        }, where="scenario subject", environ={}, base=workdir)
        self._boots += 1
        # A restarted bot draws fresh ids, as a new process would.
        self._bot = await Bot.start(config, rng=random.Random(f"{self._seed}/{self._boots}"), on_event=self._tell)
        # Opens wait for the order stream, so runs do not race its subscription; a venue that never
        # lets it subscribe (a lost auth reply) leaves the bot on its REST fallbacks, as in production.
        subscribed = venue.venue.streams.wait_subscribed("order") if isinstance(venue, RunningVenue) else \
            venue.venue.streams.wait_listening(venue.account.account_id)
        try:
            await asyncio.wait_for(subscribed, STREAM_WAIT_S)
        except TimeoutError:
            self._trace.record(ACTOR, "stream.not_subscribed", waited_s=STREAM_WAIT_S)
        self._supervisor = asyncio.ensure_future(self._bot.run(asyncio.Event()))

    def _tell(self, kind: str, intent_id: IntentId | None, data: dict[str, Any]) -> None:
        self._trace.record(ACTOR, kind, **({"intent": intent_id} if intent_id else {}), **data)

    async def open(self, symbol: str, side: str, qty: Decimal) -> bool:
        record = await self._require().open(symbol, Side(side), qty)
        return record.state is IntentState.OPEN

    async def close_position(self, symbol: str) -> bool:
        return not (await self._require().close_symbol(symbol)).is_open

    async def sync_pass(self) -> None:
        await self._require().step()

    async def restart(self) -> None:
        await self.close()
        assert self._venue is not None
        await self.start(self._venue, self._workdir, self._trace)

    def db_positions(self) -> list[tuple[str, str, Decimal]]:
        return self._read("positions", lambda repo: [(p.symbol, p.side.value, p.qty) for p in repo.open_positions()])

    def pending_symbols(self) -> frozenset[str]:
        return self._read("pending", lambda repo: frozenset(r.intent.symbol for r in repo.unfinished()))

    def _read(self, what: str, read: Callable[[Repository], T]) -> T:
        # The runner compares every second; the database changes far less often than that.
        repo = self._require().repo
        key = (what, self._boots, repo.version)  # each boot opens its own repository
        if key not in self._reads:
            self._reads = {k: v for k, v in self._reads.items() if k[0] != what}
            self._reads[key] = read(repo)
        return self._reads[key]  # type: ignore[no-any-return]

    async def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
            self._supervisor = None
        if self._bot is not None:
            await self._bot.close()
            self._bot = None

    def _require(self) -> Bot:
        if self._bot is None:
            raise RuntimeError("the bot subject is not running")
        return self._bot

