"""The wall-clock bridge: every reference to the real clock reads the loop while it runs, and only then."""

from __future__ import annotations

import datetime
import sys
import threading
import time
import types
from collections.abc import Iterator

import pytest

from virtualtime.runtime import DEFAULT_START_MS, new_virtual_loop

START_S = DEFAULT_START_MS / 1000


def _real_now_s() -> float:
    return time.clock_gettime(time.CLOCK_REALTIME)


@pytest.fixture
def module() -> Iterator[types.ModuleType]:
    """A loaded module of the user's, holding the real clock the way ccxt's throttler does."""
    made = types.ModuleType("bridge_probe")
    made.now = time.time  # type: ignore[attr-defined]
    made.today = datetime.datetime  # type: ignore[attr-defined]
    sys.modules[made.__name__] = made
    yield made
    del sys.modules[made.__name__]


def test_a_captured_clock_reads_the_loop_while_it_runs_and_the_real_clock_after(module: types.ModuleType) -> None:
    for _ in range(2):  # the second start answers from what the first one learnt
        loop = new_virtual_loop()
        try:
            assert module.now() == START_S
            assert module.today.now() == datetime.datetime(2026, 1, 1)
            assert time.time_ns() == DEFAULT_START_MS * 1_000_000
        finally:
            loop.close()
        assert module.now is time.time is not None and abs(module.now() - _real_now_s()) < 5
        assert module.today is datetime.datetime


def test_a_module_that_took_the_clock_since_the_last_start_is_found_again(module: types.ModuleType) -> None:
    new_virtual_loop().close()
    module.later = time.monotonic  # type: ignore[attr-defined]
    loop = new_virtual_loop()
    try:
        assert module.later() == START_S  # monotonic reads the same epoch-based value as time()
    finally:
        loop.close()
    assert module.later is time.monotonic


def test_a_module_imported_during_the_run_gets_the_real_clock_back_at_stop() -> None:
    loop = new_virtual_loop()
    try:
        late = types.ModuleType("bridge_late_import")
        late.now = time.time  # type: ignore[attr-defined]  # what `from time import time` binds now
        sys.modules[late.__name__] = late
        assert late.now() == START_S
    finally:
        loop.close()
        sys.modules.pop("bridge_late_import", None)
    assert abs(late.now() - _real_now_s()) < 5


def test_threads_keep_the_real_clock_for_their_own_waits() -> None:
    # threading binds time.monotonic at import; its timed waits must not see virtual time stand still.
    loop = new_virtual_loop()
    try:
        started = time.clock_gettime(time.CLOCK_MONOTONIC)
        assert not threading.Event().wait(0.05)
        assert time.clock_gettime(time.CLOCK_MONOTONIC) - started < 5
    finally:
        loop.close()


def test_a_start_that_fails_half_way_leaves_the_clock_real_and_the_next_loop_free() -> None:
    class Broken(types.ModuleType):
        def __getattribute__(self, name: str) -> object:
            if name == "__dict__":
                raise ImportError("a lazy module that fails to load")
            return super().__getattribute__(name)

    sys.modules["bridge_broken"] = Broken("bridge_broken")
    try:
        new_virtual_loop().close()  # such a module is skipped, not fatal
    finally:
        del sys.modules["bridge_broken"]
    assert abs(time.time() - _real_now_s()) < 5
    new_virtual_loop().close()


def test_a_start_that_raises_half_way_undoes_what_it_did() -> None:
    class Exploding(dict):  # type: ignore[type-arg]
        def items(self):  # type: ignore[no-untyped-def]
            raise RuntimeError("a namespace that cannot be read")

    class Odd:
        @property
        def __dict__(self):  # type: ignore[no-untyped-def,override]
            return Exploding(x=1)

    sys.modules["bridge_odd"] = Odd()  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError, match="cannot be read"):
            new_virtual_loop()
    finally:
        del sys.modules["bridge_odd"]
    assert time.time is not None and abs(time.time() - _real_now_s()) < 5
    assert datetime.datetime.now().year >= 2026 and type(datetime.datetime.now()) is datetime.datetime
    new_virtual_loop().close()  # nothing left half-started to refuse it


def test_a_stop_cut_short_finishes_when_called_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from virtualtime.loop import VirtualEventLoop
    from virtualtime.wallclock import WallClockBridge

    loop = VirtualEventLoop(start_ns=DEFAULT_START_MS * 1_000_000)
    bridge = WallClockBridge(loop)
    bridge.start()
    calls = []

    def interrupted_once() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(bridge, "_restore_late_imports", interrupted_once)
    try:
        with pytest.raises(KeyboardInterrupt):
            bridge.stop()
        bridge.stop()  # the second call finishes what the first began
    finally:
        loop.close()
    assert calls == [1, 1]
    assert abs(time.time() - _real_now_s()) < 5 and datetime.datetime.now().year >= 2026
    new_virtual_loop().close()  # freezegun's stacks are empty again: a new loop may start
