"""Every named scenario against every subject it names: the expectation must hold, and runs repeat exactly."""

from __future__ import annotations

import pytest

from scenarios.model import library
from scenarios.runner import Verdict, replay

CASES = [(scenario.id, expectation.subject) for scenario in library().values() for expectation in scenario.expectations]


def explain(verdict: Verdict) -> str:
    violations = "\n".join(f"  - {v.line(verdict.start_ms)}" for v in verdict.violations) or "  (none)"
    return f"{verdict.scenario.id} / {verdict.subject}\n" + "\n".join(verdict.timeline) + f"\nviolations:\n{violations}"


@pytest.mark.parametrize(("scenario_id", "subject"), CASES, ids=[f"{s}-{subj}" for s, subj in CASES])
def test_the_scenario_judges_the_subject_as_it_says(scenario_id: str, subject: str) -> None:
    verdict = replay(library()[scenario_id], subject, seed=0)

    assert verdict.expectation_held, explain(verdict)
    assert verdict.simulated_ms == verdict.scenario.duration_ms


def test_the_bot_passes_every_scenario() -> None:
    named = {scenario.id for scenario in library().values()
             if any(e.subject == "bot" and e.passes for e in scenario.expectations)}
    assert named == set(library()), "every scenario must say the bot passes it"


@pytest.mark.parametrize("subject", ["bot", "seed-flow"])
def test_the_same_seed_gives_the_same_trace(subject: str) -> None:
    scenario = library()["gigausdt-phantom-position"]
    first, again = replay(scenario, subject, seed=7), replay(scenario, subject, seed=7)

    assert first.trace_sha256 == again.trace_sha256
    assert first.timeline == again.timeline


def test_the_seed_flow_phantom_is_in_its_timeline() -> None:
    verdict = replay(library()["gigausdt-phantom-position"], "seed-flow", seed=0)

    text = "\n".join(verdict.timeline)
    assert "order.created" in text and "side=None" in text
    assert "fetch_order.500-limit  attempt=5" in text
    assert "rolled back" in text and "missing 'side' field" in text
    assert "sync.added-missing" in text
    phantom = next(v for v in verdict.violations if v.invariant == "phantom position")
    # From the fill itself (the engine's change is looked at as it happens), not the next 1 s sample.
    assert (phantom.since_ms - verdict.start_ms, phantom.until_ms - verdict.start_ms) == (300, 323_000)
