"""gigausdt-phantom-position: the harness catches the known-bad subject, and our bot passes."""

from __future__ import annotations

from decimal import Decimal

from scenarios.gigausdt_phantom import SYMBOL, SYNC_AFTER_S, replay, run_subject
from scenarios.invariants import first
from simulator.simulation import simulation


def test_the_known_bad_subject_leaves_a_phantom_until_its_synchronizer_runs() -> None:
    with simulation(seed=3) as sim:
        verdict = sim.run(lambda: run_subject(sim, "known-bad"))

    assert not verdict.passed
    phantom = first(verdict.violations, "phantom position")
    assert phantom is not None, verdict.violations
    assert phantom.evidence == f"venue short 920 {SYMBOL} not in the database"
    # From the fill (within the first sample) until the synchronizer 5 min 23 s later adopted it ...
    assert phantom.since_ms - verdict.start_ms <= 1_000
    assert phantom.until_ms - verdict.start_ms == SYNC_AFTER_S * 1000
    # ... and adopted without a stop, it stays unprotected to the end.
    unprotected = first(verdict.violations, "unprotected position")
    assert unprotected is not None and unprotected.until_ms > phantom.until_ms
    assert verdict.final_database == verdict.final_venue == ((SYMBOL, "short", Decimal(920)),)


def test_the_bot_ends_with_one_protected_position_matching_the_venue() -> None:
    with simulation(seed=3) as sim:
        verdict = sim.run(lambda: run_subject(sim, "bot"))

    assert verdict.passed, verdict.violations
    assert verdict.final_database == verdict.final_venue == ((SYMBOL, "short", Decimal(920)),)


def test_the_replay_reproduces_and_repeats_exactly() -> None:
    digests, timelines = [], []
    for _ in range(2):
        with simulation(seed=4) as sim:
            result = sim.run(lambda: replay(sim))
        assert result.reproduced, result.findings
        digests.append(sim.trace.digest())
        timelines.append(result.timeline)
    assert digests[0] == digests[1]
    assert timelines[0] == timelines[1]
    assert any("rolled back" in line and "missing 'side' field" in line for line in timelines[0])
    assert any("order.created" in line and "side=None" in line for line in timelines[0])
