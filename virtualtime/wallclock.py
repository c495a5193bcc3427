"""Make the process's wall clock read the virtual loop's clock, exactly.

freezegun does the sweep: ``time.time``, ``datetime.now`` and every module-level
reference to them (ccxt's throttler does ``from time import time``) are replaced.
Its frozen-time factory is then swapped for one that reads the loop, and ``time.time_ns``
for an exact integer version: freezegun's own is ``int(float * 1e9)``, about a
millisecond low at 2026 epochs, which is enough to break request signatures.
"""

from __future__ import annotations

import contextlib
import datetime
import sys
import time
from collections.abc import Iterator
from typing import Any

import freezegun
import freezegun.api

from virtualtime.loop import VirtualEventLoop

_EPOCH = datetime.datetime(1970, 1, 1)


class _LoopTime:
    """A freezegun time factory that answers with the loop's virtual wall time."""

    def __init__(self, loop: VirtualEventLoop) -> None:
        self._loop = loop

    def __call__(self) -> datetime.datetime:
        return freezegun.api.real_datetime(1970, 1, 1) + datetime.timedelta(microseconds=self._loop.time_ns() // 1000)

    def tick(self, delta: Any = 1) -> None:
        raise NotImplementedError("virtual time moves only by the loop's timers; await asyncio.sleep instead")

    def move_to(self, target: Any) -> None:
        raise NotImplementedError("virtual time moves only by the loop's timers; await asyncio.sleep instead")


def _preload_clients() -> None:
    # Modules imported after the freeze keep references to the real clock: import the
    # clients under test first so the sweep reaches them.
    for name in ("ccxt", "ccxt.async_support", "ccxt.pro", "aiohttp"):
        with contextlib.suppress(ImportError):
            __import__(name)


class WallClockBridge:
    """Points the process's wall clock at one loop from ``start()`` until ``stop()``."""

    def __init__(self, loop: VirtualEventLoop) -> None:
        self._loop = loop
        self._freezer: Any = None
        self._swapped: list[tuple[Any, str]] = []

    def start(self) -> None:
        if self._freezer is not None:
            raise RuntimeError("this wall-clock bridge is already started")
        if freezegun.api.freeze_factories:
            raise RuntimeError(
                "a freezegun freeze (or another virtual loop's bridge) is already active; "
                "virtual time cannot share the wall clock with it: close the other loop first"
            )
        _preload_clients()
        start = _EPOCH + datetime.timedelta(microseconds=self._loop.time_ns() // 1000)
        # pytest keeps its real clock: its durations and timeouts are about the host, not the venue.
        freezer = freezegun.freeze_time(start, tick=False, ignore=["_pytest."])
        freezer.start()
        self._freezer = freezer
        freezegun.api.freeze_factories[-1] = _LoopTime(self._loop)  # type: ignore[call-overload]
        exact = self._loop.time_ns
        fake_time_ns = freezegun.api.fake_time_ns
        time.time_ns = exact
        for module in list(sys.modules.values()):
            attributes = getattr(module, "__dict__", None)
            if not attributes or module is time:
                continue
            for name, value in list(attributes.items()):
                if value is fake_time_ns:
                    setattr(module, name, exact)
                    self._swapped.append((module, name))

    def stop(self) -> None:
        if self._freezer is None:
            return
        fake_time_ns = freezegun.api.fake_time_ns
        for module, name in self._swapped:
            setattr(module, name, fake_time_ns)
        self._swapped.clear()
        time.time_ns = fake_time_ns
        freezer, self._freezer = self._freezer, None
        freezer.stop()


@contextlib.contextmanager
def loop_wall_clock(loop: VirtualEventLoop) -> Iterator[None]:
    bridge = WallClockBridge(loop)
    bridge.start()
    try:
        yield
    finally:
        bridge.stop()
