"""pytest fixtures for trading against a local venue; enable with ``pytest_plugins = ["simulator.testing"]``.

``bybit_venue`` serves a fresh Bybit venue on 127.0.0.1 (any free port) for one test and
fails the test if the venue hit an internal error while serving it. ``bybit_rest`` and
``bybit_pro`` are ccxt clients with default options apart from the URLs (and one SSL context shared
across clients, built as ccxt would build it). ``trace`` holds
what the venue did (and whatever the test records). With ``virtualtime.pytest_plugin`` also
enabled, ``@pytest.mark.virtual_time`` puts all of it on virtual time and ``simulation``
gives the test's world (loop, seed, trace). ``watching_binance(venue)`` starts a ccxt.pro watch
on a Binance venue and returns once the venue's user stream listens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from simulator.clock import WallClock
from simulator.server import RunningBinance, RunningVenue, serve_binance, serve_bybit
from simulator.simulation import Simulation, seeded_global_random
from virtualtime.loop import VirtualEventLoop
from virtualtime.trace import Trace


@pytest.fixture
def venue_seed() -> int:
    """Override to run a test's venue from another seed."""
    return 0


@pytest.fixture
def trace() -> Trace:
    """The test's trace, stamped by the wall clock (which a virtual_time test's loop drives)."""
    return Trace(WallClock())


@pytest_asyncio.fixture
async def simulation(venue_seed: int, trace: Trace) -> AsyncIterator[Simulation]:
    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualEventLoop):
        raise pytest.UsageError(
            f"the simulation fixture needs virtual time, but the loop is {loop!r}: mark the test @pytest.mark.virtual_time"
        )
    with seeded_global_random(venue_seed):
        yield Simulation(loop=loop, seed=venue_seed, trace=trace)


@pytest_asyncio.fixture
async def bybit_venue(venue_seed: int, trace: Trace) -> AsyncIterator[RunningVenue]:
    async with serve_bybit(seed=venue_seed, trace=trace) as running:
        yield running
        errors = list(running.venue.internal_errors)
    assert not errors, "the venue hit internal errors while serving the test:\n" + "\n".join(errors)


@pytest_asyncio.fixture
async def bybit_rest(bybit_venue: RunningVenue) -> Any:
    return bybit_venue.rest_client()


@pytest_asyncio.fixture
async def bybit_pro(bybit_venue: RunningVenue) -> Any:
    return bybit_venue.pro_client()


@pytest_asyncio.fixture
async def binance_venue(venue_seed: int, trace: Trace) -> AsyncIterator[RunningBinance]:
    async with serve_binance(seed=venue_seed, trace=trace) as running:
        yield running
        errors = list(running.venue.internal_errors)
    assert not errors, "the venue hit internal errors while serving the test:\n" + "\n".join(errors)


@pytest_asyncio.fixture
async def binance_rest(binance_venue: RunningBinance) -> Any:
    return binance_venue.rest_client()


async def watching_binance(
    venue: RunningBinance, watch: str = "watch_orders", *, clients: tuple[Any, Any] | None = None
) -> tuple[Any, Any, asyncio.Task[Any]]:
    """A REST client and a ccxt.pro client for ``venue`` (``clients`` to bring your own), the pro one
    sharing the REST one's markets, with ``pro.<watch>()`` running and the user stream listening."""
    rest, pro = clients or (venue.rest_client(), venue.pro_client())
    await rest.load_markets()
    pro.set_markets_from_exchange(rest)
    task = asyncio.ensure_future(getattr(pro, watch)())
    await asyncio.wait_for(venue.venue.streams.wait_listening(venue.account.account_id), 10)
    return rest, pro, task
