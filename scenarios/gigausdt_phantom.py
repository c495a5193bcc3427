"""gigausdt-phantom-position: the GIGAUSDT incident replayed end to end against a subject.

Story: a bot opens a 920 GIGAUSDT short on Bybit with a market order. The order fills at once;
Bybit answers the create with ids only; the position push arrives over WebSocket; ccxt's
``fetch_order`` refuses every lookup with its "last 500 orders" guard. Five minutes and 23 seconds
after the entry, a synchronizer pass runs. A correct subject ends with exactly the venue's position
in its database, under a stop, and never holds venue exposure it does not know about for longer
than the convergence window. The known-bad subject rolls its record back and leaves a phantom.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from scenarios.invariants import Snapshot, Violation, Watch
from scenarios.replay import Replay
from scenarios.subjects import Subject
from scenarios.subjects.known_bad import KnownBadBot
from scenarios.subjects.ours import OurBot
from simulator.engine.venue import Engine
from simulator.server import RunningVenue
from simulator.simulation import Simulation

NAME = "gigausdt-phantom-position"
SYMBOL, VENUE_SYMBOL, SIDE, QTY = "GIGA/USDT:USDT", "GIGAUSDT", "short", Decimal(920)
SYNC_AFTER_S = 323.0  # 03:05:26.750 entry to 03:10:49.863 synchronizer, as in the report
CONVERGENCE_MS = 60_000  # a subject may take this long to know (and protect) what it holds
SAMPLE_S = 0.25
SUBJECTS = {"bot": OurBot, "known-bad": KnownBadBot}
EXPECTED_TO_PASS = {"bot": True, "known-bad": False}


@dataclass
class Verdict:
    subject: str
    passed: bool
    violations: list[Violation] = field(default_factory=list)
    final_venue: tuple[tuple[str, str, Decimal], ...] = ()
    final_database: tuple[tuple[str, str, Decimal], ...] = ()
    start_ms: int = 0


async def run_subject(sim: Simulation, subject_name: str) -> Verdict:
    subject: Subject = SUBJECTS[subject_name]() if subject_name != "bot" else OurBot(seed=sim.seed)
    with tempfile.TemporaryDirectory(prefix=f"{NAME}-") as workdir:
        async with sim.serve_bybit() as venue:
            await subject.start(venue, Path(workdir), sim.trace)
            start_ms = sim.now_ms()
            sim.trace.record("scenario", "start", scenario=NAME, subject=subject_name)
            watch = Watch(grace_ms=CONVERGENCE_MS)
            monitor = asyncio.ensure_future(_monitor(sim, venue, subject, watch))
            try:
                await subject.open(SYMBOL, SIDE, QTY)
            except Exception as error:  # noqa: BLE001 - a subject failing is an outcome to judge, not a crash
                sim.trace.record("scenario", "subject.open-failed", error=f"{type(error).__name__}: {error}")
            await asyncio.sleep(max(0.0, start_ms / 1000 + SYNC_AFTER_S - sim.now_ms() / 1000))
            sim.trace.record("scenario", "synchronizer.due")
            await subject.sync_pass()
            await asyncio.sleep(1)
            final = _snapshot(sim, venue, subject)
            watch.observe(final)
            monitor.cancel()
            await asyncio.gather(monitor, return_exceptions=True)
            violations = watch.finish()
            for v in violations:
                sim.trace.record("scenario", "violation", invariant=v.invariant, evidence=v.evidence,
                                 since_ms=v.since_ms - start_ms, until_ms=v.until_ms - start_ms)
            await subject.close()
            assert not venue.venue.internal_errors, venue.venue.internal_errors
    return Verdict(subject_name, not violations, violations, final.venue, final.database, start_ms)


async def _monitor(sim: Simulation, venue: RunningVenue, subject: Subject, watch: Watch) -> None:
    while True:
        watch.observe(_snapshot(sim, venue, subject))
        await asyncio.sleep(SAMPLE_S)


def _snapshot(sim: Simulation, venue: RunningVenue, subject: Subject) -> Snapshot:
    engine: Engine = venue.engine
    account = venue.account.account_id
    held, protected = [], set()
    for position in engine.positions(account):
        if not position.size:
            continue
        symbol = _unified(str(position.symbol))
        held.append((symbol, "long" if position.size > 0 else "short", abs(position.size)))
        stops = [o for o in engine.orders.open_for(account, position.symbol)
                 if o.trigger_price is not None and (o.reduce_only or o.close_on_trigger)
                 and o.side is not position.side and o.qty >= abs(position.size)]
        if stops or position.stop_loss is not None:
            protected.add(symbol)
    return Snapshot(sim.now_ms(), tuple(sorted(held)), frozenset(protected), tuple(sorted(subject.db_positions())))


def _unified(venue_symbol: str) -> str:
    base = venue_symbol.removesuffix("USDT")
    return f"{base}/USDT:USDT"


async def replay(sim: Simulation) -> Replay:
    """Both subjects under the incident's conditions: ``bot`` must pass, the known-bad one must fail."""
    out = Replay()
    for name in ("known-bad", "bot"):
        first_record = len(sim.trace)
        verdict = await run_subject(sim, name)
        for record in sim.trace.records[first_record:]:
            if record.actor in ("scenario", "known-bad") or (record.actor == "bot" and _notable(record.kind)):
                # The known-bad subject's None values are the evidence (a create answer without a side).
                shown_fields = {k: v for k, v in record.fields.items() if record.actor == "known-bad" or v is not None}
                fields = " ".join(f"{k}={v}" for k, v in shown_fields.items())
                out.timeline.append(f"[{name}] T+{record.at_ms - verdict.start_ms} ms  {record.actor}"
                                    f"  {record.kind}  {fields}".rstrip())
        shown = ", ".join(v.line(verdict.start_ms) for v in verdict.violations) or "no violations"
        out.timeline.append(f"[{name}] verdict: {'PASS' if verdict.passed else 'FAIL'} ({shown})")
        if name == "known-bad":
            out.findings["the known-bad subject leaves a phantom position"] = any(
                v.invariant == "phantom position" for v in verdict.violations)
        else:
            out.findings["the bot ends with one protected position matching the venue"] = (
                verdict.passed and verdict.final_database == verdict.final_venue
                == ((SYMBOL, SIDE, QTY),)
            )
    return out


def _notable(kind: str) -> bool:
    return kind.startswith(("intent.", "position.", "sync.cycle")) or kind == "confirm.source"
