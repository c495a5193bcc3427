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
import time
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
        # time attribute -> (freezegun's reader, ours, the real one); holding ours keeps the
        # identities freezegun restores by valid until stop.
        self._readers: dict[str, tuple[Any, Any, Any]] = {}

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
        # freezegun's readers go through its stack-inspecting ignore check and a datetime round
        # trip (and its time_ns loses a millisecond): install exact, direct readers wherever
        # freezegun installed its own. Its undo list says where that was. Monotonic clocks read
        # the same epoch-based value freezegun gives them.
        api = freezegun.api
        exact_ns = self._loop.time_ns
        readers: dict[str, tuple[Any, Any, Any]] = {}
        for name, seconds in (("time", True), ("time_ns", False), ("monotonic", True), ("monotonic_ns", False),
                              ("perf_counter", True), ("perf_counter_ns", False)):
            fake = getattr(api, f"fake_{name}", None)
            if fake is not None:
                readers[name] = (fake, _seconds_reader(exact_ns) if seconds else _ns_reader(exact_ns),
                                 getattr(api, f"real_{name}"))
        ours_by_fake = {id(fake): ours for fake, ours, _real in readers.values()}
        for name, (_fake, ours, real) in readers.items():
            setattr(time, name, ours)
            # A module imported during the freeze may capture ours; freezegun restores such
            # captures on stop by identity, so teach it which real function each stands for.
            freezer.reals[id(ours)] = real
        self._readers = readers
        for module, name, _original in freezer.undo_changes:
            replacement = ours_by_fake.get(id(getattr(module, name, None)))
            if replacement is not None:
                setattr(module, name, replacement)

    def stop(self) -> None:
        if self._freezer is None:
            return
        # freezer.stop() restores every attribute it changed, including the ones swapped above,
        # and the time module's own (it expects to find its fakes there first).
        for name, (fake, _ours, _real) in self._readers.items():
            setattr(time, name, fake)
        freezer, self._freezer = self._freezer, None
        freezer.stop()
        self._readers = {}


# One function object per replaced reader: freezegun maps captured readers back to real ones by identity.
def _seconds_reader(exact_ns: Any) -> Any:
    def read() -> float:
        return exact_ns() / 1e9

    return read


def _ns_reader(exact_ns: Any) -> Any:
    def read() -> int:
        return exact_ns()

    return read
