"""pytest fixtures for trading against a local venue; enable with ``pytest_plugins = ["simulator.testing"]``.

``bybit_venue`` serves a fresh Bybit venue on 127.0.0.1 (any free port) for one test and
fails the test if the venue hit an internal error while serving it. ``bybit_rest`` and
``bybit_pro`` are ccxt clients with default options apart from the URLs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from simulator.server import RunningVenue, serve_bybit


@pytest.fixture
def venue_seed() -> int:
    """Override to run a test's venue from another seed."""
    return 0


@pytest_asyncio.fixture
async def bybit_venue(venue_seed: int) -> AsyncIterator[RunningVenue]:
    async with serve_bybit(seed=venue_seed) as running:
        yield running
        errors = list(running.venue.internal_errors)
    assert not errors, "the venue hit internal errors while serving the test:\n" + "\n".join(errors)


@pytest_asyncio.fixture
async def bybit_rest(bybit_venue: RunningVenue) -> Any:
    return bybit_venue.rest_client()


@pytest_asyncio.fixture
async def bybit_pro(bybit_venue: RunningVenue) -> Any:
    return bybit_venue.pro_client()
