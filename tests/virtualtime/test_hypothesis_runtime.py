"""Hypothesis over the virtual-time runtime: generated waits land exactly, and runs repeat exactly.

- ``test_a_client_timeout_races_a_slow_handler_on_exact_virtual_time``: an aiohttp handler that
  sleeps ``delay_ms`` against a client timeout of ``timeout_ms`` succeeds iff the delay is the
  shorter, and the request takes exactly the shorter of the two in virtual nanoseconds.
- ``test_orders_between_sleeps_are_stamped_by_the_sleeps_and_repeat_exactly``: ccxt market orders
  interleaved with generated sleeps are stamped by the venue at the sleeps plus ccxt's leaky-bucket
  spacing, and the same input run twice gives the same stamps and the same trace digest.
- ``TestVenueMachine``: a rule-based machine over one world (virtual loop, Bybit venue, ccxt client)
  that sleeps, trades, moves the price and fetches positions, checking the venue's position and
  every clock (loop, ``time.time_ns()``, venue, ccxt) against a model after each step.

Every example builds and closes its own world: only one virtual loop may be open per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from simulator.engine.values import Side
from simulator.server import RunningVenue, listen
from simulator.simulation import Simulation, simulation

T = TypeVar("T")

BTC = "BTC/USDT:USDT"
VENUE_BTC = "BTCUSDT"
LOT = Decimal("0.001")
NS_PER_US = 1_000
NS_PER_MS = 1_000_000
# ccxt's leaky bucket: v5/order/create costs 2.5 tokens, refilled at 1/20 per ms in 1 ms ticks and
# only while a request waits, so each order after the first waits 50 ticks give or take the
# fraction of a tick carried over from the previous wait.
ORDER_SPACING_MS = 50
SPACING_CARRY_MS = 1

# Each example builds ccxt and a venue (~0.1 s real), so no per-example deadline; derandomized
# with no database so CI replays the same examples every run.
COMMON = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# ---------------------------------------------------------------------- a client timeout races a handler


async def _start_slow_server(delay_ms: int) -> tuple[web.AppRunner, str]:
    async def handler(_: web.Request) -> web.Response:
        await asyncio.sleep(delay_ms / 1000)
        return web.Response(text="answered")

    app = web.Application()
    app.router.add_get("/", handler)
    runner, base_url = await listen(app)
    return runner, f"{base_url}/"


async def _timed_get(sim: Simulation, url: str, timeout_ms: int) -> tuple[str | None, int]:
    """The body (None on timeout) and the virtual nanoseconds the request took."""
    started = sim.loop.time_ns()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_ms / 1000)) as session:
            async with session.get(url) as response:
                return await response.text(), sim.loop.time_ns() - started
    except asyncio.TimeoutError:
        return None, sim.loop.time_ns() - started


@settings(COMMON, max_examples=25)
@given(
    seed=st.integers(0, 2**16),
    # A first sleep puts the race at an arbitrary instant (to the microsecond), off the whole
    # milliseconds where float deadlines happen to be exact.
    offset_us=st.integers(0, 100_000_000),
    delay_ms=st.integers(0, 3_000),
    # Below aiohttp's ceil threshold (5 s), above which it rounds deadlines up to whole seconds.
    timeout_ms=st.integers(1, 3_000),
)
def test_a_client_timeout_races_a_slow_handler_on_exact_virtual_time(
    seed: int, offset_us: int, delay_ms: int, timeout_ms: int
) -> None:
    assume(delay_ms != timeout_ms)  # a tie is decided by timer order, not by the clock

    with simulation(seed=seed) as sim:

        async def main() -> tuple[str | None, int, int, int]:
            runner, url = await _start_slow_server(delay_ms)
            try:
                await asyncio.sleep(offset_us / 1_000_000)
                body, took_ns = await _timed_get(sim, url, timeout_ms)
                return body, took_ns, time.time_ns(), sim.loop.time_ns()
            finally:
                await runner.cleanup()

        body, took_ns, wall_ns, loop_ns = sim.run(main)

    assert wall_ns == loop_ns, "time.time_ns() must read the loop's clock exactly"
    if delay_ms < timeout_ms:
        assert body == "answered"
        expected_ns = delay_ms * NS_PER_MS
    else:
        assert body is None, "the client timeout fired late or not at all"
        expected_ns = timeout_ms * NS_PER_MS
    assert took_ns == expected_ns, (took_ns, expected_ns)


# ---------------------------------------------------------------------- orders between sleeps


def _orders_between_sleeps(seed: int, steps: list[tuple[int, str]]) -> tuple[list[int], str]:
    """Run ``steps`` (sleep ms, then a market order of one lot on that side) in a fresh world.

    Returns each order's venue creation time (ms) and the run's trace digest.
    """
    with simulation(seed=seed) as sim:

        async def main() -> list[int]:
            async with sim.serve_bybit() as venue:
                client = venue.rest_client()
                try:
                    await client.load_markets()
                    created: list[int] = []
                    for sleep_ms, side in steps:
                        await asyncio.sleep(sleep_ms / 1000)
                        order = await client.create_order(BTC, "market", side, float(LOT))
                        await sim.settle()
                        found = venue.engine.find_order(venue.account.account_id, order_id=order["id"])
                        assert found is not None
                        created.append(found.created_ms)
                    assert venue.venue.internal_errors == []
                    return created
                finally:
                    await client.close()

        created = sim.run(main)
    return created, sim.trace.digest()


@settings(COMMON, max_examples=15)
@given(
    seed=st.integers(0, 2**16),
    steps=st.lists(
        st.tuples(st.integers(0, 2_000), st.sampled_from(["buy", "sell"])), min_size=1, max_size=4
    ),
)
def test_orders_between_sleeps_are_stamped_by_the_sleeps_and_repeat_exactly(
    seed: int, steps: list[tuple[int, str]]
) -> None:
    created, digest = _orders_between_sleeps(seed, steps)

    sleeps = [sleep_ms for sleep_ms, _ in steps]
    # What ccxt's throttle added between consecutive orders, once the generated sleep is taken out.
    waits = [later - earlier - sleep for earlier, later, sleep in zip(created, created[1:], sleeps[1:])]
    for wait in waits:
        assert ORDER_SPACING_MS - SPACING_CARRY_MS <= wait <= ORDER_SPACING_MS + SPACING_CARRY_MS, (created, sleeps)
    # The carry is passed on, never lost: the waits add up to the nominal spacing within one tick.
    assert abs(sum(waits) - ORDER_SPACING_MS * len(waits)) <= SPACING_CARRY_MS, (created, sleeps)

    again, again_digest = _orders_between_sleeps(seed, steps)
    assert again == created
    assert again_digest == digest


# ---------------------------------------------------------------------- a state machine over one world


class VenueMachine(RuleBasedStateMachine):
    """One world per example: a virtual loop, a Bybit venue on it and a ccxt client trading there.

    The model is the net position and the virtual clock. Sleeps must move the clock by their
    length to the nanosecond; ccxt calls may add throttle time,
    so after each one the model clock is re-read from the loop once the call is checked to have
    moved it only forward. Between steps nothing runs, so every clock must read the model's.
    """

    SEED = 11

    def __init__(self) -> None:
        super().__init__()
        self._world = contextlib.ExitStack()
        try:
            self.sim: Simulation = self._world.enter_context(simulation(seed=self.SEED))
            serving = self.sim.serve_bybit()
            self.venue: RunningVenue = self._drive(serving.__aenter__())
            self._world.callback(lambda: self._drive(serving.__aexit__(None, None, None)))
            self.client: Any = self.venue.rest_client()
            self._world.callback(lambda: self._drive(self.client.close()))
            self._drive(self.client.load_markets())
        except BaseException:
            self._world.close()
            raise
        self.net = Decimal(0)
        self.price = Decimal("60000")
        self.clock_ns = self.sim.loop.time_ns()

    def teardown(self) -> None:
        # Close the client, then the venue, then the loop: the wall clock is real again after this.
        self._world.close()

    # ------------------------------------------------------------------ driving the world

    def _drive(self, awaitable: Awaitable[T]) -> T:
        return self.sim.loop.run_until_complete(self._settled(awaitable))

    async def _settled(self, awaitable: Awaitable[T]) -> T:
        result = await awaitable
        await self.sim.settle()
        return result

    def _ccxt_call(self, awaitable: Awaitable[T]) -> T:
        before = self.sim.loop.time_ns()
        result = self._drive(awaitable)
        after = self.sim.loop.time_ns()
        assert after >= before, "the virtual clock went backwards"
        self.clock_ns = after
        return result

    # ------------------------------------------------------------------ rules

    @rule(us=st.integers(0, 120_000_000))
    def sleep(self, us: int) -> None:
        # Microseconds, so a clock that only keeps whole milliseconds fails; up to two minutes, so
        # some sleeps cross aiohttp's keep-alive and cleanup timers on the way.
        expected_ns = self.clock_ns + us * NS_PER_US
        self._drive(asyncio.sleep(us / 1_000_000))
        now_ns = self.sim.loop.time_ns()
        assert now_ns == expected_ns, (now_ns - self.clock_ns, us)
        self.clock_ns = now_ns

    @rule(side=st.sampled_from(["buy", "sell"]), lots=st.integers(1, 20))
    def market_order(self, side: str, lots: int) -> None:
        qty = lots * LOT
        before_ms = self.clock_ns // NS_PER_MS
        order = self._ccxt_call(self.client.create_order(BTC, "market", side, float(qty)))
        self.net += qty if side == "buy" else -qty
        found = self.venue.engine.find_order(self.venue.account.account_id, order_id=order["id"])
        assert found is not None
        # The venue stamps with the clock the client reads: inside the call, never outside it.
        assert before_ms <= found.created_ms <= self.clock_ns // NS_PER_MS

    @rule(price=st.integers(50_000, 70_000))
    def move_price(self, price: int) -> None:
        self.venue.engine.set_price(VENUE_BTC, Decimal(price))
        self._drive(self.sim.settle())
        self.price = Decimal(price)

    @rule()
    def fetch_positions(self) -> None:
        positions = self._ccxt_call(self.client.fetch_positions([BTC]))
        held = [p for p in positions if p["contracts"]]
        if self.net == 0:
            assert held == []
            return
        assert len(held) == 1, held
        assert Decimal(str(held[0]["contracts"])) == abs(self.net)
        assert held[0]["side"] == ("long" if self.net > 0 else "short")
        assert Decimal(str(held[0]["markPrice"])) == self.price

    # ------------------------------------------------------------------ invariants

    @invariant()
    def the_venue_position_is_the_model_position(self) -> None:
        position = self.venue.engine.position(self.venue.account.account_id, VENUE_BTC)
        assert position.size == self.net
        expected_side = None if self.net == 0 else (Side.BUY if self.net > 0 else Side.SELL)
        assert position.side is expected_side

    @invariant()
    def every_clock_reads_the_model_clock(self) -> None:
        # Nothing runs between steps, so the clock must be exactly where the last step left it.
        assert self.sim.loop.time_ns() == self.clock_ns
        assert time.time_ns() == self.clock_ns
        assert self.venue.engine.now_ms() == self.clock_ns // NS_PER_MS
        assert self.client.milliseconds() == self.clock_ns // NS_PER_MS

    @invariant()
    def the_venue_hit_no_internal_error(self) -> None:
        assert self.venue.venue.internal_errors == []


VenueMachine.TestCase.settings = settings(COMMON, max_examples=10, stateful_step_count=10)
TestVenueMachine = VenueMachine.TestCase
