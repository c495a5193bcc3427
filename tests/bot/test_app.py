"""The assembled bot and its supervisor loop, in-process on virtual time."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.app import Bot, Pass
from bot.config import parse
from bot.errors import Halt, Rejected
from bot.lifecycle import IntentState
from bot.values import Side
from simulator.server import RunningVenue
from simulator.simulation import Simulation

pytestmark = pytest.mark.virtual_time
GIGA = "GIGA/USDT:USDT"


def config(running: RunningVenue, tmp_path: Path, *, secret: str | None = None, max_open: int = 1,  # noqa: ANN201
           sync_s: float = 30):
    raw = {
        "venue": {"name": "bybit", "rest_url": running.base_url, "api_key": running.api_key,
                  "api_secret": secret or running.api_secret},
        "bot": {"seed": 5},
        "risk": {"max_open_positions": max_open},
        "intervals": {"sync_s": sync_s},
        "symbol": [{"name": GIGA, "max_qty": "1000"}, {"name": "BTC/USDT:USDT", "max_qty": "1"}],
    }
    return parse(raw, where="test", environ={}, base=tmp_path)


@contextlib.asynccontextmanager
async def started(running: RunningVenue, tmp_path: Path, **options: Any) -> AsyncIterator[Bot]:
    """A bot started against ``running`` with ``config(...)`` options, closed when the block ends."""
    bot = await Bot.start(config(running, tmp_path, **options))
    try:
        yield bot
    finally:
        await bot.close()


async def test_opens_within_limits_and_refuses_beyond_them(simulation: Simulation, tmp_path: Path) -> None:
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            with pytest.raises(Rejected, match="exceeds max_qty 1000"):
                await bot.open(GIGA, Side.SHORT, Decimal(1001))
            assert (await bot.open(GIGA, Side.SHORT, Decimal(920))).state is IntentState.OPEN
            with pytest.raises(Rejected, match="max_open_positions is 1"):
                await bot.open("BTC/USDT:USDT", Side.LONG, Decimal("0.01"))
            closed = await bot.close_symbol(GIGA)
            assert not closed.is_open


async def test_the_supervisor_passes_on_startup_and_every_interval(simulation: Simulation, tmp_path: Path) -> None:
    async with simulation.serve_bybit() as running:
        outsider = running.rest_client()
        await outsider.create_order(GIGA, "market", "sell", 920)
        async with started(running, tmp_path) as bot:
            stop = asyncio.Event()
            asyncio.get_running_loop().call_later(95, stop.set)
            await bot.run(stop)
            passes = [e for e in bot.repo.events() if e.kind == "sync.cycle"]
            # Passes at 0, 30, 60 and 90 s; the first adopted and protected, the rest found nothing to do.
            assert [len(e.data["actions"]) for e in passes] == [2, 0, 0, 0]
            assert [e.data["started_ms"] - passes[0].data["started_ms"] for e in passes] == [0, 30_000, 60_000, 90_000]


async def test_the_supervisor_passes_at_once_when_a_stop_of_ours_is_pushed_filled(
    simulation: Simulation, tmp_path: Path
) -> None:
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            stop = asyncio.Event()
            await bot.open(GIGA, Side.SHORT, Decimal(920))
            loop = asyncio.get_running_loop()
            fired_ms = simulation.now_ms() + 10_000
            loop.call_later(10, running.engine.set_price, "GIGAUSDT", "0.0200")  # through the short's stop
            loop.call_later(25, stop.set)  # before the interval's next pass (30 s after the first)
            await bot.run(stop)
            [closed] = bot.repo.positions()
            assert not closed.is_open and "its stop filled" in (closed.close_reason or "")
            [close] = [e for e in bot.repo.events() if e.kind == "position.closed"]
            assert fired_ms <= close.at_ms < fired_ms + 1_000  # a pass woken by the push, not the next interval
            assert len([e for e in bot.repo.events() if e.kind == "sync.cycle"]) == 2  # at start, and that one


async def test_a_stop_fill_pushed_during_a_pass_is_seen_before_the_supervisor_waits(
    simulation: Simulation, tmp_path: Path
) -> None:
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            await bot.open(GIGA, Side.SHORT, Decimal(920))
            running.engine.set_price("GIGAUSDT", "0.0200")  # through the stop
            await asyncio.sleep(0.5)  # its fill is pushed, as if while a pass ran: no push comes after
            loop = asyncio.get_running_loop()
            began = loop.time()
            await asyncio.wait_for(bot._until_next_pass(asyncio.Event(), began + 30), 5)
            assert loop.time() == began  # back at once for a pass, not at the next push or interval


async def test_the_supervisor_passes_once_an_interval_whatever_float_seconds_add_up_to(
    simulation: Simulation, tmp_path: Path
) -> None:
    # 7.7 s steps summed in float seconds leave slivers; each must still count as one interval.
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path, sync_s=7.7) as bot:
            passes = 0

            async def instant_pass() -> Pass:
                nonlocal passes
                passes += 1
                if passes > 1_000:  # passes that no longer wait for their interval: fail, not hang
                    stop.set()
                return Pass.SYNCED

            stop = asyncio.Event()
            bot.step = instant_pass  # type: ignore[method-assign]
            asyncio.get_running_loop().call_later(7.7 * 200 - 1, stop.set)
            await bot.run(stop)
            assert passes == 200


async def _pass_times(bot: Bot, outcomes: list[Pass], until_s: float) -> list[float]:
    """When (loop seconds from the start) the supervisor ran each pass, each ending as ``outcomes`` say
    (then synced)."""
    loop = asyncio.get_running_loop()
    began, times = loop.time(), []
    script = iter(outcomes)

    async def scripted_pass() -> Pass:
        times.append(round(loop.time() - began, 3))
        return next(script, Pass.SYNCED)

    stop = asyncio.Event()
    bot.step = scripted_pass  # type: ignore[method-assign]
    loop.call_later(until_s, stop.set)
    await bot.run(stop)
    return times


FAILED, SYNCED, THROTTLED = Pass.FAILED, Pass.SYNCED, Pass.THROTTLED


async def test_a_failed_pass_is_retried_sooner_doubling_within_an_interval(simulation: Simulation,
                                                                           tmp_path: Path) -> None:
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            times = await _pass_times(bot, [FAILED, FAILED, FAILED, FAILED, SYNCED, FAILED, SYNCED], 200)

    # Retries 5, 10, 20, then 30 s (the interval) apart; after a pass that went through, the
    # interval again from it; one failure later, 5 s again.
    assert times == [0, 5, 15, 35, 65, 95, 100, 130, 160, 190]


async def test_a_rate_limited_pass_is_not_retried_sooner(simulation: Simulation, tmp_path: Path) -> None:
    # Repeating early lengthens a ban (Binance escalates its 418).
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            times = await _pass_times(bot, [THROTTLED, FAILED, THROTTLED], 100)

    assert times == [0, 30, 35, 65, 95]


async def test_the_supervisor_keeps_retrying_through_an_outage_of_any_length(simulation: Simulation,
                                                                             tmp_path: Path) -> None:
    # The delay doubles; left unbounded, 2**1024 overflowed a float after 1,025 failures (8.5 hours).
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            times = await _pass_times(bot, [FAILED] * 2_000, 30 * 2_000)

    assert times[:4] == [0, 5, 15, 35]
    assert {b - a for a, b in zip(times[3:], times[4:])} == {30}
    assert len(times) == 2_002  # every failure retried (then synced passes) until the end: no crash


async def test_a_failed_pass_is_not_retried_sooner_than_an_interval_after_the_latest_flat_reading(
    simulation: Simulation, tmp_path: Path
) -> None:
    # Two flat readings close a position out; only an interval between them outlasts a lagging list.
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            now = simulation.now_ms()
            bot.sync.flat_readings = {GIGA: [now - 40_000], "BTC/USDT:USDT": [now - 50_000, now - 12_000]}
            times = await _pass_times(bot, [FAILED, SYNCED], 40)

    assert times == [0, 18]  # 30 s after the latest reading, not 5 s after the failure


async def test_a_pass_that_failed_after_taking_a_flat_reading_is_retried_an_interval_later(
    simulation: Simulation, tmp_path: Path
) -> None:
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path) as bot:
            await bot.open(GIGA, Side.SHORT, Decimal(920))
            await bot.venue.cancel(GIGA, bot.repo.open_positions()[0].stop_order_id, stop=True)  # type: ignore[arg-type]
            outsider = running.rest_client()
            await outsider.create_order(GIGA, "market", "buy", 920, None, {"reduceOnly": True})  # flat now
            loop = asyncio.get_running_loop()
            began, planned = loop.time(), []
            plan, save = bot.sync.plan, bot.repo.set_flat_readings

            async def timed_plan() -> Any:
                planned.append(round(loop.time() - began))
                return await plan()

            def failing_once(readings: Any) -> None:
                bot.repo.set_flat_readings = save  # type: ignore[method-assign]
                raise OSError("disk I/O error")

            bot.sync.plan = timed_plan  # type: ignore[method-assign]
            bot.repo.set_flat_readings = failing_once  # type: ignore[method-assign]
            stop = asyncio.Event()
            loop.call_later(45, stop.set)
            await bot.run(stop)

            # The first pass took a flat reading, then failed to save it: the retry waits the interval.
            assert planned == [0, 30]
            [position] = bot.repo.positions()
            assert not position.is_open  # the two readings, 30 s apart, closed it out


async def test_the_supervisor_halts_on_rejected_credentials(simulation: Simulation, tmp_path: Path) -> None:
    async with simulation.serve_bybit() as running:
        async with started(running, tmp_path, secret="not-the-secret") as bot:
            with pytest.raises(Halt, match="AuthenticationError"):
                await bot.run(asyncio.Event())
