"""Running one scenario against one subject under virtual time, and judging it.

The runner serves the scenario's venue on the world's clock, plans its faults, moves prices on
schedule (or right after a fill), tells the subject what to do and when, and watches engine truth
against the subject's database the whole time. A restart cancels whatever the subject was doing,
as a dying process would, and starts it again on the same database.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from scenarios import checks, timeline
from scenarios.invariants import Holding, Snapshot, Violation, Watch, unified
from scenarios.model import Scenario, ScenarioError, Step
from scenarios.scratch import scratch_dir
from scenarios.subjects import Subject, factory
from simulator.engine.events import EngineEvent, Executed, OrderChanged, PositionChanged
from simulator.engine.rejections import Rejection
from simulator.engine.values import AccountId
from simulator.engine.venue import Engine
from simulator.server import RunningBinance, RunningVenue, binance_engine, bybit_engine
from simulator.simulation import Simulation, simulation

SAMPLE_S = 1.0  # how often the venue and the database are compared: a fraction of any grace
ACTOR = "scenario"
# How long past its instant a step may stay busy (in venue time) before the run is declared stuck.
STEP_BUDGET_S = 600.0
_VENUE_STEPS = frozenset({"price", "fault", "clear-faults", "drop-streams", "venue-restart", "wait"})


# Cancelling a task this many times (a virtual second apart) without it ending means it refuses to.
CANCEL_TRIES = 60


async def cancel_all(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until they are gone. asyncio.wait_for (Python 3.11) swallows a
    cancellation that meets its result in the same instant, so one request is not always enough."""
    for _ in range(CANCEL_TRIES):
        pending = [t for t in tasks if not t.done()]
        if not pending:
            break
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1.0)
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a call that failed as it was cancelled is not news
    stuck = [t for t in tasks if not t.done()]
    if stuck:
        raise RuntimeError(f"{len(stuck)} task(s) still running after {CANCEL_TRIES} cancellations: {stuck}")


class StepHung(RuntimeError):
    """A step did not finish within its budget of venue time: the run cannot be judged."""


@dataclass
class Verdict:
    scenario: Scenario
    subject: str
    seed: int
    violations: list[Violation]
    timeline: list[str]
    start_ms: int
    simulated_ms: int
    wall_ms: int = 0
    trace_sha256: str = ""
    final_venue: tuple[tuple[str, str, Decimal], ...] = ()
    final_database: tuple[tuple[str, str, Decimal], ...] = ()

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def expectation_held(self) -> bool:
        expected = self.scenario.expectation(self.subject)
        if expected.passes:
            return self.passed
        found = {v.invariant for v in self.violations}
        return not self.passed and set(expected.violations) <= found and not set(expected.absent) & found

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.id, "venue": self.scenario.venue, "subject": self.subject, "seed": self.seed,
            "passed": self.passed, "expected_to_pass": self.scenario.expectation(self.subject).passes,
            "expectation_held": self.expectation_held,
            "violations": [{"invariant": v.invariant, "since_ms": v.since_ms - self.start_ms,
                            "until_ms": v.until_ms - self.start_ms, "evidence": v.evidence} for v in self.violations],
            "simulated_ms": self.simulated_ms, "wall_ms": self.wall_ms, "trace_sha256": self.trace_sha256,
        }


def replay(scenario: Scenario, subject: str, seed: int = 0) -> Verdict:
    """A fresh world, the scenario run in it, the verdict with the run's wall time and trace hash."""
    started = time.perf_counter()
    start = {} if scenario.start_ms is None else {"start_ms": scenario.start_ms}
    with simulation(seed=seed, **start) as sim, scratch_dir(f"{scenario.id}-") as workdir:
        session = Session(sim, scenario, subject, Path(workdir))
        try:
            session.begin()
            for step in scenario.steps:
                session.apply(step)
            verdict = session.end()
        finally:
            session.close()
    verdict.wall_ms = int((time.perf_counter() - started) * 1000)
    verdict.trace_sha256 = sim.trace.digest()
    return verdict


class Session:
    """One scenario run on a simulation's loop, driven a step at a time: ``begin``, ``apply`` each
    step, ``end``. Replay and the fuzzer's state machine drive it the same way, one loop run per
    call, so a program the fuzzer found replays the same steps at the same instants."""

    def __init__(self, sim: Simulation, scenario: Scenario, subject: str, workdir: Path) -> None:
        self.sim = sim
        self.scenario = scenario
        self.subject_name = subject
        self.workdir = workdir
        self._exit = contextlib.AsyncExitStack()
        self._run: _Run | None = None
        self._closed = False

    def begin(self) -> None:
        self.sim.loop.run_until_complete(self._begin())

    def apply(self, step: Step) -> None:
        """Run to the step's instant and take it. A step that is still busy ``STEP_BUDGET_S`` of venue
        time after its instant (a subject that never comes back from a restart) fails the run loudly."""
        budget_s = max(0, step.at_ms - self.now_ms()) / 1000 + STEP_BUDGET_S
        try:
            self.sim.loop.run_until_complete(asyncio.wait_for(self.run.step(step), budget_s))
        except TimeoutError:
            raise StepHung(f"step {step.do!r} at {step.at_ms} ms was still busy {STEP_BUDGET_S:.0f} s of venue"
                           " time later; the subject (or the venue) stopped answering") from None

    def end(self, until_ms: int | None = None) -> Verdict:
        """Run to ``until_ms`` (the scenario's duration by default), then judge; the world is closed after."""
        try:
            return self.judge(until_ms)
        finally:
            self.close()

    def judge(self, until_ms: int | None = None) -> Verdict:
        """``end`` without the closing: the caller closes (and can tell a verdict from a failed close)."""
        return self.sim.loop.run_until_complete(
            self.run.finish(self.scenario.duration_ms if until_ms is None else until_ms))

    def close(self) -> None:
        """Stop whatever is still running and close the subject, its clients and the venue (idempotent)."""
        if self._closed or self.sim.loop.is_closed():
            return
        self._closed = True
        if self._run is not None:
            self.sim.loop.run_until_complete(self._run.stop())
        self.sim.loop.run_until_complete(self._exit.aclose())

    @property
    def run(self) -> _Run:
        if self._run is None:
            raise RuntimeError("the session has not begun: call begin() first")
        return self._run

    def now_ms(self) -> int:
        """Virtual ms since the scenario started."""
        return self.sim.now_ms() - self.run.start_ms

    def violations_so_far(self) -> list[Violation]:
        """Violations found up to now, and conditions already past their grace (read-only: checking
        changes nothing in the run, so a checked run and a replayed one stay the same)."""
        return self.run.watch.violations + self.run.watch.overdue()

    async def _begin(self) -> None:
        sim, scenario = self.sim, self.scenario
        binance = scenario.venue == "binance"
        engine = (binance_engine if binance else bybit_engine)(clock=sim.clock, seed=sim.seed)
        if scenario.closed_order_window is not None:
            engine.orders.resize_closed_window(scenario.closed_order_window)
        for symbol, price in scenario.prices:
            engine.set_price(symbol, price)
        subject = factory(self.subject_name)(sim.seed)
        serve = (sim.serve_binance if binance else sim.serve_bybit)(engine=engine, balance=scenario.balance)
        venue: RunningVenue | RunningBinance = await self._exit.enter_async_context(serve)  # type: ignore[arg-type]
        for fault in scenario.faults:
            venue.faults.add(fault)
        self._exit.push_async_callback(subject.close)  # also after a start that failed half way
        await subject.start(venue, self.workdir, sim.trace)
        self._run = _Run(sim, scenario, venue, subject, self.subject_name)
        self._run.begin()


@dataclass
class _Run:
    sim: Simulation
    scenario: Scenario
    venue: RunningVenue | RunningBinance
    subject: Subject
    subject_name: str
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    # (symbol, when the subject said it failed, which open it was)
    failures: list[tuple[str, int, int]] = field(default_factory=list)
    open_calls: list[tuple[str, asyncio.Task[Any]]] = field(default_factory=list)  # every open told, in order
    opens: int = 0  # opens the subject was told to make

    def begin(self) -> None:
        sim, scenario = self.sim, self.scenario
        self.start_ms = sim.now_ms()
        sim.trace.record(ACTOR, "start", scenario=scenario.id, subject=self.subject_name)
        self.first_record = len(sim.trace) - 1
        self.watch = Watch(grace_ms=scenario.convergence_ms)
        self._move_prices()
        self._stop_watching_engine = self._watch_engine(self.watch)
        self.monitor = asyncio.ensure_future(self._monitor(self.watch))

    async def step(self, step: Step) -> None:
        await self._until(step.at_ms)
        await self._do(step)

    async def stop(self) -> None:
        """The monitor and the subject's pending calls, cancelled (finish() has usually done it)."""
        await self._stop_watching()
        await self._cancel_pending()

    async def _stop_watching(self) -> None:
        """No more looks at the venue: neither at its changes nor every second."""
        self._stop_watching_engine()
        await cancel_all([self.monitor])

    async def finish(self, until_ms: int) -> Verdict:
        sim, scenario, watch = self.sim, self.scenario, self.watch
        try:
            await self._until(until_ms)
            await self._cancel_pending()
            final = self._snapshot()
            watch.observe(final)
            self._judge_failures(final, watch, final=True)
        finally:
            await self._stop_watching()
        violations = watch.finish() + self._end_checks(final) + self._disagreement(final) + self._end_state(final)
        violations.sort(key=lambda v: (v.since_ms, v.invariant))
        for v in violations:
            sim.trace.record(ACTOR, "violation", invariant=v.invariant, evidence=v.evidence,
                             since_ms=v.since_ms - self.start_ms, until_ms=v.until_ms - self.start_ms)
        records = sim.trace.records[self.first_record:]
        return Verdict(scenario, self.subject_name, sim.seed, violations,
                       timeline.lines(records, self.start_ms), self.start_ms,
                       sim.now_ms() - self.start_ms, final_venue=final.venue, final_database=final.database)

    # ------------------------------------------------------------------ driving

    async def _until(self, at_ms: int) -> None:
        delay_ms = self.start_ms + at_ms - self.sim.now_ms()
        if delay_ms > 0:
            await asyncio.sleep(delay_ms / 1000)

    async def _do(self, step: Step) -> None:
        self.sim.trace.record(ACTOR, step.do, **{k: v for k, v in
                                                 (("symbol", step.symbol), ("side", step.side), ("qty", step.qty),
                                                  ("price", step.price),
                                                  ("fault", step.fault.name if step.fault else None))
                                                 if v is not None})
        if step.do in _VENUE_STEPS:
            await self._venue_step(step)
        elif step.do == "restart":
            await self._cancel_pending()
            try:
                await self.subject.restart()
            except Exception as error:  # noqa: BLE001 - a subject that cannot come back is judged by what it left
                self.sim.trace.record(ACTOR, "restart.raised", error=f"{type(error).__name__}: {str(error)[:160]}")
            else:
                self.sim.trace.record(ACTOR, "restarted")
        elif step.do == "open":
            assert step.symbol and step.side and step.qty is not None
            self.opens += 1
            task = asyncio.ensure_future(self._open(step.symbol, step.side, step.qty, len(self.open_calls)))
            self.open_calls.append((step.symbol, task))
            self.tasks.append(task)
        elif step.do == "close":
            assert step.symbol
            self.tasks.append(asyncio.ensure_future(self._report("close", self.subject.close_position(step.symbol))))
        else:
            self.tasks.append(asyncio.ensure_future(self._report("sync", self.subject.sync_pass())))

    async def _venue_step(self, step: Step) -> None:
        venue = self.venue
        if step.do == "price":
            assert step.symbol and step.price is not None
            try:
                venue.engine.set_price(step.symbol, step.price)
            except Rejection as rejection:
                listed = [str(i.symbol) for i in venue.engine.instruments()]
                raise ScenarioError(f"{self.scenario.path}: price step at {step.at_ms} ms: {rejection}; the venue"
                                    f" lists {listed}, on their tick grids") from None
        elif step.do == "fault":
            assert step.fault is not None
            venue.faults.add(step.fault)
        elif step.do == "clear-faults":
            venue.faults.clear()
        elif step.do in ("drop-streams", "venue-restart"):
            if step.do == "venue-restart":
                venue.engine.restart()
            if isinstance(venue, RunningBinance):
                await venue.venue.streams.drop()
            else:
                await venue.venue.streams.drop_private()

    async def _open(self, symbol: str, side: str, qty: Decimal, index: int) -> None:
        if not await self._report("open", self.subject.open(symbol, side, qty)):
            self.failures.append((symbol, self.sim.now_ms(), index))

    async def _report(self, what: str, call: Any) -> Any:
        try:
            result = await call
        except Exception as error:  # noqa: BLE001 - a subject failing is an outcome to judge, not a crash
            self.sim.trace.record(ACTOR, f"{what}.raised", error=f"{type(error).__name__}: {str(error)[:160]}")
            return False
        self.sim.trace.record(ACTOR, f"{what}.returned", result=result)
        return result

    async def _cancel_pending(self) -> None:
        pending = [t for t in self.tasks if not t.done()]
        if pending:
            await cancel_all(pending)
            self.sim.trace.record(ACTOR, "cancelled", calls=len(pending))
        self.tasks = []

    def _move_prices(self) -> None:
        loop = asyncio.get_running_loop()
        engine = self.venue.engine
        for point in self.scenario.price_path:
            if point.at_ms is not None:
                loop.call_at(loop.time() + point.at_ms / 1000, engine.set_price, point.symbol, point.price)
        on_fill = {p.on_fill: p for p in self.scenario.price_path if p.on_fill is not None}
        if not on_fill:
            return
        fills = [0]
        account = self.venue.account.account_id

        def listener(batch: Sequence[EngineEvent]) -> None:
            for event in batch:
                if isinstance(event, Executed) and event.execution.is_trade and event.execution.account_id == account:
                    fills[0] += 1
                    if (point := on_fill.get(fills[0])) is not None:
                        loop.call_soon(engine.set_price, point.symbol, point.price)

        engine.subscribe(listener)

    # ------------------------------------------------------------------ judging

    def _watch_engine(self, watch: Watch) -> Callable[[], None]:
        """Between samples, every change to the account's orders or positions is looked at as it
        happens: a stop taken off a held position and put back within the second still left it bare."""
        account = self.venue.account.account_id

        def listener(batch: Sequence[EngineEvent]) -> None:
            if any(isinstance(e, OrderChanged) and e.order.account_id == account
                   or isinstance(e, PositionChanged) and e.position.account_id == account for e in batch):
                watch.observe(self._snapshot())

        return self.venue.engine.subscribe(listener)

    async def _monitor(self, watch: Watch) -> None:
        while True:
            snapshot = self._snapshot()
            watch.observe(snapshot)
            self._judge_failures(snapshot, watch, final=False)
            await asyncio.sleep(SAMPLE_S)

    def _snapshot(self) -> Snapshot:
        try:
            database = tuple(sorted(self.subject.db_positions()))
            pending = self.subject.pending_symbols()
        except Exception:  # noqa: BLE001 - a subject mid-restart has no database open
            database, pending = (), frozenset()
        return venue_snapshot(self.venue.engine, self.venue.account.account_id, self.sim.now_ms(), database, pending)

    def _judge_failures(self, snapshot: Snapshot, watch: Watch, *, final: bool) -> None:
        """An open reported failed must leave no exposure its database does not hold, one window later."""
        due = [f for f in self.failures if final or snapshot.at_ms - f[1] >= self.scenario.convergence_ms]
        for failure in due:
            symbol, at, index = failure
            # A later open of the symbol still in flight may hold the exposure seen now: it is not this
            # failure's yet. Wait for it to be told; one cancelled (a restart, the end) is judged as it stands.
            later = [task for s, task in self.open_calls[index + 1:] if s == symbol]
            if not final and any(not task.done() for task in later):
                continue
            self.failures.remove(failure)
            stray = [h for h in snapshot.venue if h[0] == symbol and h not in snapshot.database]
            if stray:
                _, side, size = stray[0]
                watch.violations.append(Violation("reported failure left exposure", at, snapshot.at_ms,
                                                  f"open of {symbol} reported failed; venue holds {side} {size}"))

    def _end_checks(self, final: Snapshot) -> list[Violation]:
        engine, account = self.venue.engine, self.venue.account.account_id
        now = final.at_ms
        wallet = engine.wallet(account)
        issued = {str(o.order_id) for o in engine.orders.all_orders()} | {  # funding rows carry order ids too
            str(e.order_id) for e in engine.orders.executions_for(account)}
        opens = self.opens
        return (checks.ledger(engine.orders.executions_for(account), self.scenario.balance, wallet.balance, now)
                + checks.unknown_lookups(self.sim.trace.records, issued, self.scenario.venue)
                + checks.duplicate_entries(engine.orders.all_for(account), opens, now))

    def _end_state(self, final: Snapshot) -> list[Violation]:
        """A subject expected to pass must end holding what a correct one would (not merely safe, but right)."""
        wanted = self.scenario.ends_holding
        if wanted is None or not self.scenario.expectation(self.subject_name).passes:
            return []
        if {(s, side, Decimal(size)) for s, side, size in final.venue} == set(wanted):
            return []
        return [Violation("did not end as a correct subject would", final.at_ms, final.at_ms,
                          f"venue holds {list(final.venue)}; a correct subject ends with {list(wanted)}")]

    @staticmethod
    def _disagreement(final: Snapshot) -> list[Violation]:
        """After the run (its convergence window included) the database holds exactly the venue's exposure."""
        if set(final.venue) == set(final.database):
            return []
        return [Violation("database and venue disagree at the end", final.at_ms, final.at_ms,
                          f"venue {list(final.venue)} vs database {list(final.database)}")]


def venue_snapshot(
    engine: Engine, account_id: AccountId, now_ms: int, database: tuple[Holding, ...], pending: frozenset[str],
) -> Snapshot:
    """What the venue itself holds for ``account_id`` (engine truth) beside what a database says it holds."""
    held, protected = [], set()
    for position in engine.positions(account_id):
        if not position.size:
            continue
        symbol = unified(str(position.symbol))
        held.append((symbol, "long" if position.size > 0 else "short", abs(position.size)))
        covering = [o for o in engine.orders.open_for(account_id, position.symbol)
                    if o.trigger_price is not None and (o.reduce_only or o.close_on_trigger)
                    and o.side is not position.side and o.qty >= abs(position.size)]
        if covering or position.stop_loss is not None:
            protected.add(symbol)
    return Snapshot(now_ms, tuple(sorted(held)), frozenset(protected), database, pending)
