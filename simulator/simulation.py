"""One simulated world: a virtual loop, the venues on its clock, and the trace they all write to.

    with simulation(seed=7) as sim:
        async def main() -> None:
            async with sim.serve_bybit() as venue:
                client = venue.rest_client()
                ...
                sim.trace.record("bot", "opened", symbol="BTCUSDT")
        sim.run(main)
    print(sim.trace.digest())

Inside a ``@pytest.mark.virtual_time`` test the ``simulation`` fixture gives the same object for
the test's own loop. The seed feeds every venue's RNG; the clock starts at ``start_ms``.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from simulator.clock import NS_PER_MS, now_ms
from simulator.server import RunningBinance, RunningVenue, binance_engine, bybit_engine, serve_binance, serve_bybit
from virtualtime.loop import VirtualEventLoop
from virtualtime.runtime import DEFAULT_START_MS, LoopClock, virtual_loop
from virtualtime.trace import Trace

T = TypeVar("T")


@dataclass
class Simulation:
    loop: VirtualEventLoop
    seed: int
    trace: Trace

    @property
    def clock(self) -> LoopClock:
        return LoopClock(self.loop)

    def now_ms(self) -> int:
        return now_ms(self.clock)

    @property
    def start_ms(self) -> int:
        return self.loop.start_ns // NS_PER_MS

    @contextlib.asynccontextmanager
    async def serve_bybit(self, **options: Any) -> AsyncIterator[RunningVenue]:
        """A Bybit venue on this world's clock, seed and trace (``options`` go to ``serve_bybit``)."""
        engine = options.pop("engine", None) or bybit_engine(clock=self.clock, seed=self.seed)
        async with serve_bybit(engine=engine, trace=self.trace, **options) as running:
            yield running

    @contextlib.asynccontextmanager
    async def serve_binance(self, **options: Any) -> AsyncIterator[RunningBinance]:
        """A Binance USD-M venue on this world's clock, seed and trace (``options`` go to ``serve_binance``)."""
        engine = options.pop("engine", None) or binance_engine(clock=self.clock, seed=self.seed)
        async with serve_binance(engine=engine, trace=self.trace, **options) as running:
            yield running

    async def settle(self) -> None:
        """Let everything due at this instant run before inspecting state (the clock does not move)."""
        await self.loop.quiesce()

    def run(self, main: Callable[[], Awaitable[T]]) -> T:
        """Run ``main()`` to completion on this world's loop (outside a running loop only)."""
        return self.loop.run_until_complete(main())


@contextlib.contextmanager
def seeded_global_random(seed: int) -> Iterator[None]:
    """Seed the process-wide ``random`` module for a world's lifetime, then put its state back.

    ccxt draws client order ids from it (``uuid22``: binanceusdm's ``x-cvBPrNm9...``), so without
    this two runs of the same seed would send different ids.
    """
    saved = random.getstate()
    random.seed(f"venue-harness/{seed}")
    try:
        yield
    finally:
        random.setstate(saved)


@contextlib.contextmanager
def simulation(*, seed: int = 0, start_ms: int = DEFAULT_START_MS) -> Iterator[Simulation]:
    """A fresh world on a fresh virtual loop; the loop closes (and the wall clock is real again) on exit."""
    with virtual_loop(start_ms=start_ms) as loop, seeded_global_random(seed):
        yield Simulation(loop=loop, seed=seed, trace=Trace(LoopClock(loop)))
