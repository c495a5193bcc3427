"""How the virtual-time runtime performs: reference-run compression, determinism, loop overhead.

Run: ``.venv/bin/python -m benchmarks.virtual_time [--repetitions N] [--passes P] [--busy] [--out PATH]``;
results are kept in benchmarks/results/. It only measures and prints: nothing here asserts.

1. Compression: ``scenarios.reference_run`` under ``simulation(seed)``, N times after one cold
   run; simulated seconds against real wall time, split into setup, scenario and teardown. Its
   client is set up as the bot sets up its own (``bot.adapters.bybit.CLIENT_OPTIONS``). P passes of
   N runs each, every pass followed by N/P runs with ccxt's default options (all twelve market
   catalogues, the limiter waking every 1 ms): a shared VM's speed drifts by tens of percent over
   minutes, and passes spread over time show it (both rows move together) instead of hiding it.
2. Determinism: distinct trace digests over the P x N runs idle, and over N with every other core
   spinning in a subprocess.
3. Overhead: back-to-back round trips (aiohttp against a trivial server; ccxt against the Bybit
   venue, rate limiter off) on a plain asyncio loop and on the virtual loop, alternated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import ccxt
from aiohttp import web

from benchmarks.report import Report
from scenarios.reference_run import reference_run
from simulator.server import listen, serve_bybit
from simulator.simulation import simulation
from virtualtime import runtime
from virtualtime.trace import Trace

# Every duration is real: inside a simulation time.time/perf_counter/monotonic read virtual
# (frozen) time; freezegun never replaces clock_gettime, and this is captured at import anyway.
_real = time.clock_gettime
_MONOTONIC = time.CLOCK_MONOTONIC

SEED = 0
ROUNDS = 5  # alternating plain/virtual measurements per workload; the median is reported
WARMUP = 20  # round trips before each timed batch (connections open, code paths warm)
AIOHTTP_REQUESTS = 500
CCXT_REQUESTS = 200
TICKER_SYMBOL = "BTC/USDT:USDT"


def _now() -> float:
    return _real(_MONOTONIC)


class _StampedTrace(Trace):
    """The simulation's trace, also noting the real time of its first and last record."""

    first = 0.0
    last = 0.0

    def record(self, actor: str, kind: str, **fields: Any) -> None:
        self.last = _now()
        self.first = self.first or self.last
        super().record(actor, kind, **fields)


@dataclass(frozen=True)
class ReferenceRun:
    whole_s: float  # simulation() entered .. loop closed
    setup_s: float  # .. the venue's first trace record (loop, wall-clock bridge, venue, both ccxt clients)
    scenario_s: float  # first .. last trace record (load_markets .. ccxt.pro's socket closing)
    teardown_s: float  # last record .. loop closed (clients, venue, loop, bridge)
    simulated_ms: int
    round_trips: int
    ws_frames: int
    jumps: int
    barrier_waits: int
    digest: str


def reference_once(seed: int, client_options: dict[str, Any] | None = None) -> ReferenceRun:
    started = _now()
    with simulation(seed=seed) as sim:
        trace = _StampedTrace(sim.clock)
        sim.trace = trace
        outcome = sim.run(lambda: reference_run(sim, client_options))
        simulated_ms = sim.now_ms() - sim.start_ms
    ended = _now()
    return ReferenceRun(
        whole_s=ended - started, setup_s=trace.first - started, scenario_s=trace.last - trace.first,
        teardown_s=ended - trace.last, simulated_ms=simulated_ms, round_trips=outcome.round_trips,
        ws_frames=outcome.ws_frames, jumps=sim.loop.jumps, barrier_waits=sim.loop._barrier.waits,
        digest=trace.digest(),
    )


@contextlib.contextmanager
def other_cores_busy(enabled: bool = True) -> Iterator[int]:
    """Spin a CPU-bound subprocess on every core but one while the block runs; yields how many."""
    count = max(1, (os.cpu_count() or 2) - 1) if enabled else 0
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield count
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


RPS_MASK = "/sys/class/net/lo/queues/rx-0/rps_cpus"


@contextlib.contextmanager
def asynchronous_loopback() -> Iterator[bool]:
    """Receive packet steering on lo: loopback delivery becomes asynchronous (as in many CI sandboxes).

    Needs root and a writable /sys; yields False (and changes nothing) otherwise. Restores the mask.
    """
    try:
        with open(RPS_MASK, encoding="ascii") as mask:
            previous = mask.read().strip()
        with open(RPS_MASK, "w", encoding="ascii") as mask:
            mask.write(format((1 << (os.cpu_count() or 1)) - 1, "x"))
    except OSError:
        yield False
        return
    try:
        yield True
    finally:
        with open(RPS_MASK, "w", encoding="ascii") as mask:
            mask.write(previous)


def jump_cost_s(n: int = 5000) -> float:
    """Real seconds per clock jump: ccxt's throttler waits for tokens in ``asyncio.sleep(0.001)`` steps."""
    async def sleeps() -> float:
        started = _now()
        for _ in range(n):
            await asyncio.sleep(0.001)
        return (_now() - started) / n
    return statistics.median(runtime.run(sleeps) for _ in range(3))


def loop_cost_s() -> float:
    """Real seconds to open and close a virtual loop with its wall-clock bridge (its module sweep)."""
    def once() -> float:
        started = _now()
        runtime.new_virtual_loop().close()
        return _now() - started
    return statistics.median(once() for _ in range(5))


# ---------------------------------------------------------------------- round trips per second


async def _timed(call: Callable[[], Awaitable[Any]], n: int) -> float:
    for _ in range(WARMUP):
        await call()
    started = _now()
    for _ in range(n):
        await call()
    return n / (_now() - started)


async def aiohttp_rate() -> float:
    async def ok(_: web.Request) -> web.Response:
        return web.Response(body=b"ok")

    app = web.Application()
    app.router.add_get("/", ok)
    runner, base_url = await listen(app)
    try:
        async with aiohttp.ClientSession() as session:
            async def get() -> None:
                async with session.get(f"{base_url}/") as response:
                    await response.read()

            return await _timed(get, AIOHTTP_REQUESTS)
    finally:
        await runner.cleanup()


async def _ccxt_rate(venue: Any, method: str) -> float:
    client = venue.rest_client(enableRateLimit=False)
    if method == "fetch_time":
        return await _timed(client.fetch_time, CCXT_REQUESTS)
    await client.load_markets()
    return await _timed(lambda: client.fetch_ticker(TICKER_SYMBOL), CCXT_REQUESTS)


def ccxt_rate(method: str) -> Callable[[], Awaitable[float]]:
    """ccxt ``method`` against ``serve_bybit(seed=0)``: a WallClock venue, the bridged wall clock on virtual time."""
    async def main() -> float:
        async with serve_bybit(seed=SEED) as venue:
            return await _ccxt_rate(venue, method)
    return main


def on_plain_loop(main: Callable[[], Awaitable[float]]) -> float:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def on_simulation(method: str) -> float:
    """ccxt ``method`` against ``sim.serve_bybit()``: the venue on the loop clock, tracing every exchange."""
    with simulation(seed=SEED) as sim:
        async def main() -> float:
            async with sim.serve_bybit() as venue:
                return await _ccxt_rate(venue, method)
        return sim.run(main)


def alternate(plain: Callable[[], float], virtual: Callable[[], float]) -> tuple[float, float, float]:
    """Median plain rate, median virtual rate, median of the per-round virtual/plain ratios (ABBA order)."""
    plains, virtuals = [], []
    for i in range(ROUNDS):
        if i % 2 == 0:
            plains.append(plain())
            virtuals.append(virtual())
        else:
            virtuals.append(virtual())
            plains.append(plain())
    ratios = [v / p for v, p in zip(virtuals, plains)]
    return statistics.median(plains), statistics.median(virtuals), statistics.median(ratios)


# ---------------------------------------------------------------------- report


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _one(values: list[Any]) -> str:
    distinct = sorted(set(values))
    return str(distinct[0]) if len(distinct) == 1 else f"VARIES {distinct[0]}..{distinct[-1]} ({len(distinct)} values)"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.virtual_time", description=__doc__.split("\n")[0])
    parser.add_argument("--repetitions", type=int, default=200, help="reference runs per pass (default 200)")
    parser.add_argument("--passes", type=int, default=5,
                        help="take the reference runs in this many passes spread over time (default 5)")
    parser.add_argument("--busy", action="store_true", help="also keep the other cores busy during the throughput part")
    parser.add_argument("--out", metavar="PATH", help="also write the report here")
    parser.add_argument("--rps", action="store_true",
                        help="also run the determinism pass with asynchronous loopback (RPS on lo; root only)")
    args = parser.parse_args()
    emit = Report()

    began = _now()
    today = datetime.datetime.now().astimezone().isoformat(timespec="seconds")  # before any simulation
    emit(f"virtual-time runtime benchmark, {today}")
    emit(f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}, "
         f"{os.cpu_count()} CPUs; ccxt {ccxt.__version__}, aiohttp {aiohttp.__version__}")
    emit()

    reps, passes = args.repetitions, max(1, args.passes)
    cold = reference_once(SEED)
    per_pass: list[tuple[list[ReferenceRun], list[ReferenceRun]]] = []
    for _ in range(passes):
        bot_options = [reference_once(SEED) for _ in range(reps)]
        per_pass.append((bot_options, [reference_once(SEED, {}) for _ in range(max(1, reps // passes))]))
    idle = [r for runs, _ in per_pass for r in runs]
    defaults = [r for _, runs in per_pass for r in runs]
    with other_cores_busy() as spinners:
        busy = [reference_once(SEED) for _ in range(reps)]
    ms = 1000.0
    emit(f"reference run, seed {SEED}: {passes} pass(es) of {reps} repetitions after 1 cold run "
         f"({cold.whole_s * ms:.0f} ms, not counted)")
    emit(f"  simulated {_one([r.simulated_ms / 1000 for r in idle])} s, {_one([r.round_trips for r in idle])} HTTP "
         f"round trips, {_one([r.ws_frames for r in idle])} WS frames, {_one([r.jumps for r in idle])} clock jumps, "
         f"{_one([r.barrier_waits for r in idle + busy])} barrier waits")
    emit(f"  {'wall ms (idle)':<44}{'median':>8}{'p95':>8}{'max':>8}")
    parts = [
        ("whole run", "whole_s"),
        ("  setup: loop, bridge, venue, ccxt clients", "setup_s"),
        ("  scenario: first .. last trace record", "scenario_s"),
        ("  teardown: clients, venue, loop", "teardown_s"),
    ]
    for label, name in parts:
        values = [getattr(r, name) * ms for r in idle]
        emit(f"  {label:<44}{statistics.median(values):8.1f}{_p95(values):8.1f}{max(values):8.1f}")
    simulated_s = statistics.median([r.simulated_ms for r in idle]) / 1000
    whole = statistics.median([r.whole_s for r in idle])
    scenario = statistics.median([r.scenario_s for r in idle])
    emit(f"  compression, simulated / median wall: {simulated_s / whole:,.0f}x whole run, "
         f"{simulated_s / scenario:,.0f}x scenario only")
    if passes > 1:
        emit("  pass by pass, median wall and compression (ccxt's default options in the same pass):")
        pass_ratios = []
        for number, (runs, default_runs) in enumerate(per_pass, 1):
            wall = statistics.median([r.whole_s for r in runs])
            default_wall = statistics.median([r.whole_s for r in default_runs])
            pass_ratios.append(simulated_s / wall)
            emit(f"    pass {number}: {wall * ms:6.1f} ms {simulated_s / wall:7,.0f}x   "
                 f"(defaults {default_wall * ms:6.1f} ms, {default_runs[0].simulated_ms / 1000 / default_wall:,.0f}x)")
        emit(f"    median of the passes {statistics.median(pass_ratios):,.0f}x, lowest {min(pass_ratios):,.0f}x, "
             f"highest {max(pass_ratios):,.0f}x")
    jump, jumps = jump_cost_s(), statistics.median([r.jumps for r in idle])
    emit(f"  a clock jump (await asyncio.sleep(0.001) on the virtual loop) costs {jump * 1e6:.0f} us real: "
         f"{jumps:.0f} jumps ~ {jump * jumps * ms:.0f} ms of the run")
    emit(f"  a virtual loop and wall-clock bridge alone, opened and closed: {loop_cost_s() * ms:.1f} ms")
    defaults_whole = statistics.median([r.whole_s for r in defaults])
    defaults_simulated_s = statistics.median([r.simulated_ms for r in defaults]) / 1000
    emit("  the same run with ccxt's default options (twelve market catalogues, the limiter waking every 1 ms):")
    emit(f"    median {defaults_whole * ms:.1f} ms (p95 {_p95([r.whole_s * ms for r in defaults]):.1f}), "
         f"{defaults_simulated_s / defaults_whole:,.0f}x whole run; {_one([r.jumps for r in defaults])} clock jumps, "
         f"{_one([r.round_trips for r in defaults])} HTTP round trips")
    emit()

    emit(f"determinism, distinct trace digests over the runs of seed {SEED}")
    for label, runs in (("idle", idle), (f"{spinners} other core(s) spinning", busy)):
        digests = [r.digest for r in runs]
        same = max(digests.count(d) for d in set(digests))
        wall = statistics.median([r.whole_s for r in runs]) * ms
        emit(f"  {label:<30}{len(set(digests)):>3} distinct ({same}/{len(runs)} identical), median wall {wall:.1f} ms")
    emit(f"  digest {_one([r.digest for r in idle + busy + [cold]])}")
    if args.rps:
        with asynchronous_loopback() as enabled:
            steered = [reference_once(SEED) for _ in range(reps)] if enabled else []
        if steered:
            digests = [r.digest for r in steered]
            same = max(digests.count(d) for d in set(digests))
            emit(f"  {'asynchronous loopback (RPS)':<30}{len(set(digests)):>3} distinct ({same}/{reps} identical), "
                 f"median wall {statistics.median([r.whole_s for r in steered]) * ms:.1f} ms, "
                 f"barrier waited {sum(r.barrier_waits for r in steered)} times; same digest as idle: "
                 f"{set(digests) == {idle[0].digest}}")
        else:
            emit("  asynchronous loopback (RPS): unavailable here (needs root and a writable /sys)")
    emit()

    workloads: list[tuple[str, Callable[[], float], Callable[[], float]]] = [
        ("aiohttp GET, trivial server", lambda: on_plain_loop(aiohttp_rate), lambda: runtime.run(aiohttp_rate)),
        ("ccxt fetch_time", lambda: on_plain_loop(ccxt_rate("fetch_time")),
         lambda: runtime.run(ccxt_rate("fetch_time"))),
        ("ccxt fetch_ticker", lambda: on_plain_loop(ccxt_rate("fetch_ticker")),
         lambda: runtime.run(ccxt_rate("fetch_ticker"))),
        ("ccxt fetch_ticker, simulation() traced", lambda: on_plain_loop(ccxt_rate("fetch_ticker")),
         lambda: on_simulation("fetch_ticker")),
    ]
    with other_cores_busy(args.busy) as spinners:
        emit(f"round trips per second, back to back ({AIOHTTP_REQUESTS} aiohttp / {CCXT_REQUESTS} ccxt after "
             f"{WARMUP} warm-up; median of {ROUNDS} alternating rounds; {spinners} other core(s) spinning)")
        emit(f"  {'':<44}{'plain':>8}{'virtual':>9}{'virtual/plain':>15}")
        for label, plain, virtual in workloads:
            plain_rate, virtual_rate, ratio = alternate(plain, virtual)
            emit(f"  {label:<44}{plain_rate:8.0f}{virtual_rate:9.0f}{ratio:14.0%}")
    emit()
    emit(f"benchmark took {_now() - began:.0f} s real time")

    emit.write(args.out)


if __name__ == "__main__":
    main()
