"""The bot against an in-process Bybit venue on virtual time: a served venue and a factory for bot stacks.

The stacks share one file database, so a test can "crash" a bot (drop its stack) and start
another on the same database, as a restart would.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bot.adapters.bybit import BybitVenue
from bot.clock import SystemClock
from bot.opener import PositionOpener
from bot.policy import Policy
from bot.reconcile import SyncRules
from bot.repository import Repository
from bot.synchronizer import Synchronizer
from simulator.engine.events import EngineEvent, Executed
from simulator.server import RunningVenue
from simulator.simulation import Simulation

GIGA = "GIGA/USDT:USDT"
PREFIX = "hb"


class Crash(BaseException):
    """The bot process dying: nothing in the bot catches it."""


@dataclass
class Stack:
    venue: BybitVenue
    repo: Repository
    opener: PositionOpener
    sync: Synchronizer


@dataclass
class World:
    sim: Simulation
    running: RunningVenue
    db_path: Path
    stacks: list[Stack] = field(default_factory=list)

    @property
    def engine(self):  # noqa: ANN201 - the simulator's Engine
        return self.running.engine

    async def bot(self, *, stream: bool = True, repo: Repository | None = None, seed: int = 1,
                  subscribed: bool = True) -> Stack:
        """A started bot stack on the shared database; ``stream=False`` points its WS at a closed port,
        ``subscribed=False`` does not wait for its order stream to subscribe."""
        ws_url = None if stream else f"ws://127.0.0.1:{_closed_port()}"
        venue = BybitVenue(api_key=self.running.api_key, secret=self.running.api_secret,
                           rest_url=self.running.base_url, ws_url=ws_url)
        await venue.start()
        if stream and subscribed:
            await asyncio.wait_for(self.running.venue.streams.wait_subscribed("order"), 5)
        clock = SystemClock()
        repo = repo or Repository.open(str(self.db_path), clock)
        rng = random.Random(seed)
        opener = PositionOpener(venue, repo, clock=clock, rng=rng, policy=Policy(), prefix=PREFIX)
        sync = Synchronizer(venue, repo, opener, rules=SyncRules(client_prefix=PREFIX, stop_fraction=Decimal("0.02")),
                            clock=clock, rng=rng)
        stack = Stack(venue, repo, opener, sync)
        self.stacks.append(stack)
        return stack

    async def crash(self, stack: Stack) -> None:
        """Drop a bot stack as a dead process would: connections gone, database file left as it was."""
        await stack.venue.close()
        stack.repo.close()
        self.stacks.remove(stack)

    def on_fill(self, react: Callable[[Executed], None]) -> None:
        """Run ``react`` right after each fill, once the engine has finished applying it."""
        loop = asyncio.get_running_loop()

        def listener(batch: Sequence[EngineEvent]) -> None:
            for event in batch:
                if isinstance(event, Executed):
                    loop.call_soon(react, event)

        self.engine.subscribe(listener)

    def venue_positions(self) -> list[tuple[str, str, Decimal]]:
        """What the venue itself holds (engine truth, not a client's view): (symbol, long|short, size)."""
        held = [p for p in self.engine.positions(self.running.account.account_id) if p.size]
        return [(str(p.symbol), "long" if p.size > 0 else "short", abs(p.size)) for p in held]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def crash_at(venue: BybitVenue, method: str, *, after_sending: bool) -> None:
    """Make the bot die at its next ``method`` call: before it reaches the venue, or after the venue applied it."""
    original = getattr(venue, method)

    async def dying(*args, **kwargs):  # type: ignore[no-untyped-def]
        if after_sending:
            await original(*args, **kwargs)
            raise Crash(f"died after the venue applied {method}, before reading its answer")
        raise Crash(f"died just before sending {method}")

    setattr(venue, method, dying)
