"""Fixtures for the bot's integration tests (see ``world.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from simulator.simulation import Simulation
from tests.bot.world import World


@pytest_asyncio.fixture
async def world(simulation: Simulation, tmp_path: Path) -> AsyncIterator[World]:
    async with simulation.serve_bybit() as running:
        w = World(simulation, running, tmp_path / "bot.sqlite3")
        yield w
        for stack in list(w.stacks):
            await w.crash(stack)
        errors = list(running.venue.internal_errors)
    assert not errors, "the venue hit internal errors:\n" + "\n".join(errors)
