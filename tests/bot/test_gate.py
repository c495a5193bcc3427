"""The read gate: one read at a time, lookups of one order or position ahead of account-wide scans;
and in the adapter, against the Bybit venue."""

from __future__ import annotations

import asyncio

import pytest

from bot.adapters.gate import ReadGate
from bot.errors import RetryLater
from simulator.faults import Fault, Latency, OnCall, RestTarget
from tests.bot.world import GIGA, World

pytestmark = pytest.mark.virtual_time


async def _read(gate: ReadGate, name: str, order: list[str], *, scan: bool, hold_s: float = 1.0) -> None:
    async with gate.held(scan=scan):
        order.append(name)
        await asyncio.sleep(hold_s)


async def test_lookups_go_ahead_of_waiting_scans_in_their_own_order() -> None:
    gate, order = ReadGate(), []
    first = asyncio.ensure_future(_read(gate, "scan 1", order, scan=True))
    await asyncio.sleep(0)
    waiting = [asyncio.ensure_future(_read(gate, name, order, scan=name.startswith("scan")))
               for name in ("scan 2", "lookup 1", "scan 3", "lookup 2")]
    await asyncio.gather(first, *waiting)
    assert order == ["scan 1", "lookup 1", "lookup 2", "scan 2", "scan 3"]


async def test_one_read_at_a_time_and_the_gate_frees_after_the_last() -> None:
    gate, order = ReadGate(), []
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(_read(gate, str(n), order, scan=n % 2 == 0) for n in range(4)))
    assert asyncio.get_running_loop().time() - started == pytest.approx(4.0)  # none overlapped
    await asyncio.wait_for(_read(gate, "alone", order, scan=False, hold_s=0), 0.001)  # free again at once


async def test_a_waiter_cancelled_before_its_turn_is_skipped() -> None:
    gate, order = ReadGate(), []
    first = asyncio.ensure_future(_read(gate, "scan 1", order, scan=True))
    await asyncio.sleep(0)
    gone = asyncio.ensure_future(_read(gate, "lookup gone", order, scan=False))
    later = asyncio.ensure_future(_read(gate, "lookup 2", order, scan=False))
    await asyncio.sleep(0.5)
    gone.cancel()
    await asyncio.gather(first, later)
    assert gone.cancelled()
    assert order == ["scan 1", "lookup 2"]


async def test_a_waiter_cancelled_as_it_is_handed_the_gate_passes_it_on() -> None:
    gate, order = ReadGate(), []
    handed: asyncio.Future[None]

    async def holder() -> None:
        async with gate.held(scan=True):
            order.append("scan 1")
            await asyncio.sleep(1)
        handed.cancel()  # the gate is handed over, and the task it went to has not run yet

    first = asyncio.ensure_future(holder())
    await asyncio.sleep(0)
    handed = asyncio.ensure_future(_read(gate, "lookup handed", order, scan=False))
    later = asyncio.ensure_future(_read(gate, "scan 2", order, scan=True))
    await asyncio.wait_for(asyncio.gather(first, later), 5)  # not stuck behind the cancelled one
    assert handed.cancelled()
    assert order == ["scan 1", "scan 2"]


async def test_in_the_adapter_a_lookup_waits_only_for_the_read_in_flight(world: World) -> None:
    """Three scans of the open stops hang on a slow venue; a lookup of one position waits for the
    first only, and each scan sends one request: a failed page fails the scan (ccxt's own pagination
    retried it three times)."""
    bot = await world.bot()
    world.running.faults.add(Fault("order reads hang", RestTarget("GET", "/v5/order/realtime"), Latency(12_000),
                                   OnCall(n=1, times=1000)))
    loop = asyncio.get_running_loop()
    started = loop.time()
    scans = [asyncio.ensure_future(bot.venue.open_stops()) for _ in range(3)]
    await asyncio.sleep(0)

    assert await bot.venue.position(GIGA) is None
    waited = loop.time() - started
    results = await asyncio.gather(*scans, return_exceptions=True)

    assert 10 <= waited < 11, f"the lookup waited {waited:.1f} s; ccxt's timeout is 10 s"
    assert [type(r) for r in results] == [RetryLater] * 3
    assert loop.time() - started < 31
    requests = [r for r in world.sim.trace.records if r.kind == "rest.request" and r.fields["path"] == "/v5/order/realtime"]
    assert len(requests) == 3
