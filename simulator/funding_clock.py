"""Funding settles on time: a timer on the venue's loop wakes at each funding instant and has the
engine settle it (under virtual time the wait costs nothing; see ``engine/funding.py``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from simulator.engine.venue import Engine

IDLE_S = 3600.0  # with nothing listed, look again this often


async def settle_on_time(engine: Engine, on_internal_error: Callable[[str], None]) -> None:
    while True:
        due = engine.funding.next_due_ms()
        # From the clock's nanoseconds: a venue started part-way through a millisecond still wakes on the instant.
        await asyncio.sleep(IDLE_S if due is None else max(due * 1_000_000 - engine.clock.time_ns(), 0) / 1e9)
        try:
            engine.funding.settle_due()
        except Exception:  # noqa: BLE001 - a supervisor: a simulator bug is recorded, and funding goes on
            on_internal_error("funding settlement")


def funding_clock(engine: Engine, on_internal_error: Callable[[str], None]
                  ) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context running ``settle_on_time`` while the app serves."""

    async def run(_app: web.Application) -> AsyncIterator[None]:
        task = asyncio.ensure_future(settle_on_time(engine, on_internal_error))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run
