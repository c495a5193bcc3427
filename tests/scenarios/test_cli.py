"""``python -m scenarios`` as a user runs it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def scenarios(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scenarios", *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)


def test_list_names_every_scenario_with_its_subjects() -> None:
    result = scenarios("list")

    assert result.returncode == 0
    assert "gigausdt-phantom-position" in result.stdout and "[bot passes, seed-flow fails]" in result.stdout


def test_json_output_carries_the_verdict_fields() -> None:
    result = scenarios("replay", "gigausdt-phantom-position", "--subject", "seed-flow", "--seed", "3", "--json")

    assert result.returncode == 0, result.stderr  # seed-flow failing is what the scenario expects
    [line] = result.stdout.splitlines()
    verdict = json.loads(line)
    assert {"scenario", "venue", "subject", "seed", "passed", "violations", "simulated_ms", "wall_ms",
            "trace_sha256"} <= set(verdict)
    assert (verdict["subject"], verdict["seed"], verdict["passed"]) == ("seed-flow", 3, False)
    assert "phantom position" in {v["invariant"] for v in verdict["violations"]}
    assert len(verdict["trace_sha256"]) == 64


def test_the_venue_mechanics_json_carries_the_verdict_fields_and_its_own_trace() -> None:
    result = scenarios("replay", "gigausdt-venue-mechanics", "--json")

    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    verdict = json.loads(line)
    assert (verdict["passed"], verdict["expected_to_pass"], verdict["expectation_held"]) == (True, True, True)
    assert verdict["violations"] == []
    assert verdict["trace_sha256"] != hashlib.sha256(b"").hexdigest()  # the run's requests, not an empty trace


def test_a_users_subject_is_loaded_from_module_and_factory() -> None:
    result = scenarios("replay", "create-answer-lost-after-fill", "--subject", "tests.scenarios.user_subject:make")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: PASS, as expected" in result.stdout


def test_exit_status_is_1_when_a_subject_fails_a_scenario_that_expects_it_to_pass() -> None:
    result = scenarios("replay", "stop-rejected-price-moved", "--subject", "seed-flow")

    assert result.returncode == 1
    assert "verdict: FAIL, NOT AS EXPECTED" in result.stdout


def test_an_unloadable_subject_is_refused_with_the_reason() -> None:
    result = scenarios("replay", "gigausdt-phantom-position", "--subject", "no.such.module:make")

    assert result.returncode == 2
    assert "cannot load subject 'no.such.module:make'" in result.stderr
