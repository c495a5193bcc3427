"""Running code on virtual time: a loop, its wall clock, and a clock object for venues."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from virtualtime.loop import VirtualEventLoop
from virtualtime.wallclock import WallClockBridge

T = TypeVar("T")

# 2026-01-01T00:00:00Z: a plausible venue time, the same in every run.
DEFAULT_START_MS = 1_767_225_600_000


class LoopClock:
    """``simulator.clock.Clock`` over a virtual loop: venues stamp with the same time the subject reads."""

    def __init__(self, loop: VirtualEventLoop) -> None:
        self._loop = loop

    def time_ns(self) -> int:
        return self._loop.time_ns()

    def __repr__(self) -> str:
        return f"LoopClock(now_ms={self._loop.time_ns() // 1_000_000})"


def new_virtual_loop(*, start_ms: int = DEFAULT_START_MS, max_virtual_s: float | None = None) -> VirtualEventLoop:
    """A fresh virtual loop with the process's wall clock bridged to it until ``loop.close()``.

    A loop factory: hand it to ``asyncio.Runner(loop_factory=...)`` or pytest-asyncio.
    Only one such loop may be open at a time in a process (there is one wall clock).
    ``max_virtual_s``: the clock may not jump further than this from the start (``VirtualTimeError``;
    each time it trips, the same span is allowed again from then, so clean-up can finish).
    """
    if max_virtual_s is not None and not max_virtual_s > 0:  # NaN included
        raise ValueError(f"max_virtual_s must be a positive number of seconds (None or math.inf: no limit),"
                         f" got {max_virtual_s!r}")
    limit = None if max_virtual_s is None or math.isinf(max_virtual_s) else round(max_virtual_s * 1_000_000_000)
    loop = VirtualEventLoop(start_ns=start_ms * 1_000_000, max_elapsed_ns=limit)
    bridge = WallClockBridge(loop)
    try:
        bridge.start()
    except BaseException:
        loop.close()
        raise
    loop.add_close_callback(bridge.stop)
    return loop


@contextlib.contextmanager
def virtual_loop(*, start_ms: int = DEFAULT_START_MS) -> Iterator[VirtualEventLoop]:
    """A fresh virtual loop, installed as the current loop, with the wall clock bridged to it."""
    loop = new_virtual_loop(start_ms=start_ms)
    asyncio.set_event_loop(loop)
    try:
        yield loop
        _finish(loop)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def run(main: Callable[[], Awaitable[T]], *, start_ms: int = DEFAULT_START_MS) -> T:
    """Run ``main()`` to completion on a fresh virtual loop and return its result."""
    with virtual_loop(start_ms=start_ms) as loop:
        return loop.run_until_complete(main())


def _finish(loop: VirtualEventLoop) -> None:
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
