"""The pytest opt-in: one marker puts an async test and its async fixtures on virtual time."""

from __future__ import annotations

import pytest

CONFTEST = 'pytest_plugins = ["virtualtime.pytest_plugin"]\n'
INI = "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"


def _run(pytester: pytest.Pytester, source: str, ini: str = INI) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(ini)
    pytester.makepyfile(test_user=source)
    return pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:xdist")


def test_a_marked_test_and_its_async_fixture_share_one_virtual_loop_and_clock(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
import asyncio, datetime, time
import pytest, pytest_asyncio

@pytest_asyncio.fixture
async def fixture_loop():
    await asyncio.sleep(60)
    return asyncio.get_running_loop()

@pytest.mark.virtual_time(start_ms=1_700_000_000_000)
async def test_virtual(fixture_loop, virtual_loop):
    assert fixture_loop is virtual_loop is asyncio.get_running_loop()
    assert time.time_ns() == 1_700_000_060_000 * 10**6
    await asyncio.sleep(7200)
    assert time.time_ns() == virtual_loop.time_ns() == (1_700_000_060_000 + 7_200_000) * 10**6
    assert datetime.datetime.now() == datetime.datetime(2023, 11, 15, 0, 14, 20)

@pytest.mark.virtual_time
async def test_default_start(virtual_loop):
    assert time.time_ns() == 1_767_225_600_000 * 10**6

async def test_unmarked_keeps_the_real_clock():
    assert type(asyncio.get_running_loop()).__name__ != "VirtualEventLoop"
    assert time.time() > 1_767_225_600  # today, not a frozen instant left over from the virtual tests
    before = time.monotonic()
    await asyncio.sleep(0.01)
    assert time.monotonic() > before
''')
    result.assert_outcomes(passed=3)


def test_the_marker_alone_runs_an_async_test_in_strict_mode(pytester: pytest.Pytester) -> None:
    """pytest-asyncio's default mode is strict: the marker must not need @pytest.mark.asyncio beside it."""
    result = _run(pytester, '''
import asyncio, time
import pytest, pytest_asyncio

pytestmark = pytest.mark.virtual_time

@pytest_asyncio.fixture
async def slept():
    await asyncio.sleep(60)

async def test_module_marked(slept, virtual_loop):
    assert time.time_ns() == 1_767_225_660_000 * 10**6

@pytest.mark.parametrize("hours", [1, 2])
async def test_parametrized(virtual_loop, hours):
    await asyncio.sleep(3600 * hours)
    assert time.time_ns() == (1_767_225_600_000 + 3_600_000 * hours) * 10**6

@pytest.mark.asyncio
async def test_marked_both_ways(virtual_loop):
    assert asyncio.get_running_loop() is virtual_loop

def test_a_plain_function_is_left_alone():
    assert True
''', ini="[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result.assert_outcomes(passed=5)


def test_strict_mode_marks_only_tests_and_runs_every_kind_pytest_asyncio_can(pytester: pytest.Pytester) -> None:
    """A bound async method at module level is no test (marking it broke collection); a static
    method and a Hypothesis test are (strict mode left them unmarked)."""
    result = _run(pytester, '''
import asyncio, time
import pytest
from hypothesis import given, settings, strategies as st

pytestmark = pytest.mark.virtual_time

class Client:
    async def ping(self):
        await asyncio.sleep(1)
        return time.time_ns()

ping = Client().ping

async def test_uses_a_bound_coroutine():
    assert await ping() == 1_767_225_601_000 * 10**6

class TestInAClass:
    @staticmethod
    async def test_static():
        await asyncio.sleep(5)
        assert time.time_ns() == 1_767_225_605_000 * 10**6

@settings(max_examples=3, deadline=None)
@given(st.integers(1, 3))
async def test_hypothesis(n):
    assert type(asyncio.get_running_loop()).__name__ == "VirtualEventLoop"
    await asyncio.sleep(n)
''', ini="[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result.assert_outcomes(passed=3)


def test_a_module_loop_scope_gives_the_module_one_virtual_loop(pytester: pytest.Pytester) -> None:
    """pytest-asyncio groups tests by their loop factory: one per set of marker arguments, not per test."""
    result = _run(pytester, '''
import asyncio
import pytest, pytest_asyncio

pytestmark = [pytest.mark.virtual_time, pytest.mark.asyncio(loop_scope="module")]
loops, setups = [], []

@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shared():
    setups.append(1)

async def test_first(shared):
    loops.append(asyncio.get_running_loop())
    await asyncio.sleep(60)

async def test_second(shared):
    loops.append(asyncio.get_running_loop())
    assert loops[0] is loops[1] and not loops[0].is_closed()
    assert setups == [1]
''')
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize("loaded_by", ["conftest", "-p"])
def test_the_plugin_works_however_it_is_loaded(pytester: pytest.Pytester, loaded_by: str) -> None:
    """With -p the plugin registers before pytest-asyncio, through a conftest after it: the mark must
    be on before pytest-asyncio picks the loop either way (else a strict-mode test ran on a real loop)."""
    if loaded_by == "conftest":
        pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user='''
import asyncio
import pytest
from virtualtime.loop import VirtualEventLoop

@pytest.mark.virtual_time
async def test_on_virtual_time():
    assert isinstance(asyncio.get_running_loop(), VirtualEventLoop)
''')
    extra = ["-p", "virtualtime.pytest_plugin"] if loaded_by == "-p" else []
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:xdist", *extra)
    result.assert_outcomes(passed=1)


def test_a_loop_shared_past_its_limit_does_not_spin_for_ever(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(test_user='''
import asyncio
import pytest

pytestmark = [pytest.mark.virtual_time(max_virtual_s=60), pytest.mark.asyncio(loop_scope="module")]

async def _keepalive():
    while True:
        await asyncio.sleep(1)

async def test_past_the_limit():
    await asyncio.sleep(61)

async def test_then_waits_for_ever():
    task = asyncio.ensure_future(_keepalive())
    try:
        await asyncio.get_running_loop().create_future()
    finally:
        task.cancel()
''')
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:xdist", timeout=120)
    result.assert_outcomes(failed=2)


def test_the_virtual_loop_fixture_refuses_an_unmarked_test(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
async def test_forgot_the_marker(virtual_loop):
    pass
''')
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*mark the test @pytest.mark.virtual_time*"])


def test_a_bad_marker_argument_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
import pytest

@pytest.mark.virtual_time(start=5)
async def test_typo():
    pass
''')
    assert result.ret != 0
    assert "@pytest.mark.virtual_time knows only start_ms=... and max_virtual_s=..., got ['start']" in result.stdout.str()


def test_a_test_waiting_for_what_never_comes_fails_at_the_virtual_time_limit(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
import asyncio
import pytest

async def _keepalive():
    while True:
        await asyncio.sleep(20)

@pytest.fixture
async def pinging():
    task = asyncio.ensure_future(_keepalive())
    yield
    task.cancel()

@pytest.mark.virtual_time
async def test_waits_forever(pinging):
    await asyncio.get_running_loop().create_future()  # nobody sets it; the keepalive keeps the clock moving

@pytest.mark.virtual_time(max_virtual_s=60)
async def test_past_its_own_limit(pinging):
    await asyncio.sleep(61)

@pytest.mark.virtual_time(max_virtual_s=60)
async def test_within_its_limit(pinging):
    await asyncio.sleep(59)

@pytest.fixture
async def slow_to_close():
    yield
    await asyncio.sleep(30)  # after the limit tripped: clean-up still runs

@pytest.mark.virtual_time(max_virtual_s=60)
async def test_cleans_up_after_its_limit(slow_to_close):
    await asyncio.sleep(61)

@pytest.mark.virtual_time(max_virtual_s=None)
async def test_without_a_limit():
    await asyncio.sleep(365 * 24 * 3600)
''')
    result.assert_outcomes(passed=2, failed=3)
    out = result.stdout.str()
    assert "limit (max_virtual_s=172,800 s): something is waiting for what never comes" in out
    assert "limit (max_virtual_s=60 s)" in out


def test_a_limit_that_is_no_positive_number_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = _run(pytester, '''
import pytest

@pytest.mark.virtual_time(max_virtual_s=0)
async def test_bad_limit():
    pass
''')
    assert result.ret != 0
    assert "max_virtual_s=...) must be a positive number of seconds (None or math.inf: no limit), got 0" \
        in result.stdout.str()
