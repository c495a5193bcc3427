"""pytest integration: ``@pytest.mark.virtual_time`` runs an async test (and its async fixtures) on a virtual loop.

Enable with ``pytest_plugins = ["virtualtime.pytest_plugin"]`` in a ``conftest.py``. Then::

    @pytest.mark.virtual_time                      # starts at 2026-01-01T00:00:00Z
    async def test_backoff(virtual_loop): ...

    pytestmark = pytest.mark.virtual_time(start_ms=1_700_000_000_000)   # a whole module

A marked test's clock may run two virtual days from its start (``max_virtual_s=...`` to change it):
past that the loop raises ``VirtualTimeError``, so a test waiting for what never comes fails in a
few wall seconds instead of spinning through virtual time.

The marker makes an async test an asyncio test in pytest-asyncio's strict mode too (no
``@pytest.mark.asyncio`` needed); async fixtures in strict mode need ``@pytest_asyncio.fixture``, as
ever. Unmarked async tests keep pytest-asyncio's ordinary loop. Built on pytest-asyncio's
``pytest_asyncio_loop_factories`` hook, which must answer for every async test: this plugin
answers for all of them, so it cannot be combined with another implementation of that hook.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Mapping

import pytest
import pytest_asyncio

from virtualtime.loop import VirtualEventLoop
from virtualtime.runtime import DEFAULT_START_MS, new_virtual_loop

MARKER = "virtual_time"
# A marked test may run its clock two virtual days (the project's longest tests run 29 hours); a
# test waiting for what never comes fails after that, in a few wall seconds, instead of spinning.
DEFAULT_MAX_VIRTUAL_S = 2 * 24 * 3600


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(start_ms=..., max_virtual_s=...): run this async test and its async fixtures on a virtual-time"
        " loop (sleeps and timeouts cost no wall time; time.time() and datetime.now() read the loop); the clock"
        f" may run max_virtual_s from the start ({DEFAULT_MAX_VIRTUAL_S} s by default)",
    )


def _loop_factory(marker: pytest.Mark) -> Callable[[], VirtualEventLoop]:
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only, got args={marker.args!r}")
    unknown = set(marker.kwargs) - {"start_ms", "max_virtual_s"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} knows only start_ms=... and max_virtual_s=...,"
                                f" got {sorted(unknown)}")
    start_ms = marker.kwargs.get("start_ms", DEFAULT_START_MS)
    if not isinstance(start_ms, int) or start_ms < 0:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(start_ms=...) must be a non-negative int, got {start_ms!r}")
    max_virtual_s = marker.kwargs.get("max_virtual_s", DEFAULT_MAX_VIRTUAL_S)
    if isinstance(max_virtual_s, bool) or not isinstance(max_virtual_s, int | float) or not max_virtual_s > 0:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(max_virtual_s=...) must be a positive number of seconds,"
                                f" got {max_virtual_s!r}")
    return functools.partial(new_virtual_loop, start_ms=start_ms, max_virtual_s=max_virtual_s)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Module | pytest.Class, name: str, obj: object) -> None:
    """Mark a virtual-time async test ``asyncio`` before it is collected: pytest-asyncio picks its
    tests and their loops while collecting, by that mark, which strict mode wants written out."""
    if not (inspect.iscoroutinefunction(obj) or inspect.isasyncgenfunction(obj)):
        return
    own = [mark.name for mark in getattr(obj, "pytestmark", [])]
    if "asyncio" in own or (MARKER not in own and next(collector.iter_markers(MARKER), None) is None):
        return
    if next(collector.iter_markers("asyncio"), None) is None:
        pytest.mark.asyncio(obj)  # as the decorator would: the mark is stored on the function


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return {"asyncio": lambda: asyncio.get_event_loop_policy().new_event_loop()}
    return {"virtual": _loop_factory(marker)}


@pytest_asyncio.fixture
async def virtual_loop() -> VirtualEventLoop:
    """The running virtual loop of a ``@pytest.mark.virtual_time`` test (for ``quiesce()``, ``elapsed_ns``)."""
    loop = asyncio.get_running_loop()
    if not isinstance(loop, VirtualEventLoop):
        raise pytest.UsageError(
            f"the virtual_loop fixture needs the test to run on virtual time, but the loop is {loop!r}: "
            f"mark the test @pytest.mark.{MARKER}"
        )
    return loop
