"""pytest integration: ``@pytest.mark.virtual_time`` runs an async test (and its async fixtures) on a virtual loop.

Enable with ``pytest_plugins = ["virtualtime.pytest_plugin"]`` in a ``conftest.py``. Then::

    @pytest.mark.virtual_time                      # starts at 2026-01-01T00:00:00Z
    async def test_backoff(virtual_loop): ...

    pytestmark = pytest.mark.virtual_time(start_ms=1_700_000_000_000)   # a whole module

A marked test's clock may run two virtual days from its loop's start (``max_virtual_s=...`` to
change it, ``None`` for no limit): past that the loop raises ``VirtualTimeError``, so a test waiting
for what never comes fails in a few wall seconds instead of spinning through virtual time. With a
module or session ``loop_scope`` the tests share one loop, and the limit counts from its start.

The marker makes an async test an asyncio test in pytest-asyncio's strict mode too (no
``@pytest.mark.asyncio`` needed); async fixtures in strict mode need ``@pytest_asyncio.fixture``, as
ever. Unmarked async tests keep pytest-asyncio's ordinary loop. Built on pytest-asyncio's
``pytest_asyncio_loop_factories`` hook, which must answer for every async test: this plugin
answers for all of them, so it cannot be combined with another implementation of that hook.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

import pytest
import pytest_asyncio
from pytest_asyncio.plugin import PytestAsyncioFunction

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


def _loop_factory(marker: pytest.Mark) -> Callable[[], asyncio.AbstractEventLoop]:
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only, got args={marker.args!r}")
    unknown = set(marker.kwargs) - {"start_ms", "max_virtual_s"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} knows only start_ms=... and max_virtual_s=...,"
                                f" got {sorted(unknown)}")
    start_ms = marker.kwargs.get("start_ms", DEFAULT_START_MS)
    if not isinstance(start_ms, int) or start_ms < 0:
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(start_ms=...) must be a non-negative int, got {start_ms!r}")
    limit = marker.kwargs.get("max_virtual_s", DEFAULT_MAX_VIRTUAL_S)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int | float) or math.isnan(limit)
                              or limit <= 0):
        raise pytest.UsageError(f"@pytest.mark.{MARKER}(max_virtual_s=...) must be a positive number of seconds"
                                f" (None or math.inf: no limit), got {limit!r}")
    return _virtual_factory(start_ms, None if limit is None or math.isinf(limit) else limit)


@functools.cache
def _virtual_factory(start_ms: int, max_virtual_s: float | None) -> Callable[[], asyncio.AbstractEventLoop]:
    # One factory object per set of marker arguments: pytest-asyncio parametrizes tests by their
    # factory, and a fresh object per test made every test its own loop, whatever its loop_scope.
    return functools.partial(new_virtual_loop, start_ms=start_ms, max_virtual_s=max_virtual_s)


def _plain_loop() -> asyncio.AbstractEventLoop:
    return asyncio.get_event_loop_policy().new_event_loop()


def _strict(config: pytest.Config) -> bool:
    return (config.getoption("asyncio_mode", None) or config.getini("asyncio_mode")) != "auto"


def _needs_asyncio_mark(item: pytest.Item) -> bool:
    """A virtual-time test pytest-asyncio can run (a coroutine, async generator, static method or
    Hypothesis test) that strict mode would leave alone for want of the asyncio mark."""
    return (isinstance(item, pytest.Function) and item.get_closest_marker(MARKER) is not None
            and item.get_closest_marker("asyncio") is None and _strict(item.config)
            and PytestAsyncioFunction.item_subclass_for(item) is not None)


@pytest.hookimpl(wrapper=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> Generator[None, None, None]:
    # pytest-asyncio gives a test its loop here, by the asyncio mark on its definition: the mark
    # must be on first. A wrapper runs before every plain implementation, whichever registered
    # first (with -p this plugin registers before pytest-asyncio; through a conftest, after it).
    if _needs_asyncio_mark(metafunc.definition):
        metafunc.definition.add_marker("asyncio")
    return (yield)


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_pycollect_makeitem(collector: pytest.Module | pytest.Class, name: str,
                              obj: object) -> Generator[None, Any, None]:
    # ...and on the test items made from it, before pytest-asyncio's wrapper (outside this one)
    # decides which become its items. The user's own objects are never touched.
    outcome = yield
    if outcome.excinfo is not None:
        return
    made = outcome.get_result()
    for item in made if isinstance(made, list) else [made]:
        if isinstance(item, pytest.Function) and _needs_asyncio_mark(item):
            item.add_marker("asyncio")


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    marker = item.get_closest_marker(MARKER)
    if marker is None:
        return {"asyncio": _plain_loop}
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
