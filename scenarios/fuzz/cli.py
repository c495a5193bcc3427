"""``python -m scenarios fuzz``: run the state machine against a subject and report what it found.

    python -m scenarios fuzz                                   # bot on bybit, the ci profile
    python -m scenarios fuzz --subject seed-flow --venue bybit --examples 50 --json
    python -m scenarios fuzz --profile nightly --seed 7 --out fuzz-failures/

Progress goes to stderr, one line per example. A failure is shrunk, written as a scenario file
under ``--out`` and shown; the exit status is 1 when anything was found, 2 when the run could not
be made (a subject that cannot be loaded or started).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from typing import Any

import hypothesis
import hypothesis.errors
from hypothesis.stateful import get_state_machine_test

from scenarios.fuzz.machine import FuzzFailure, LifecycleMachine, SubjectUnavailable, lifecycle_machine
from scenarios.fuzz.profiles import PROFILES, profile
from scenarios.subjects import factory as subject_factory


@dataclass
class Report:
    subject: str
    venue: str
    seed: int
    profile: str
    examples: int
    steps: int
    failures: int
    wall_s: float
    found: str | None  # the failure's message, shrunk
    scenario_file: str | None

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.wall_s if self.wall_s else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "venue": self.venue, "seed": self.seed, "profile": self.profile,
                "examples": self.examples, "steps": self.steps, "failures": self.failures,
                "wall_s": round(self.wall_s, 3), "steps_per_s": round(self.steps_per_s, 1),
                "scenario_file": self.scenario_file, "found": self.found}


def fuzz(subject: str = "bot", venue: str = "bybit", *, seed: int = 0, profile_name: str = "ci",
         examples: int | None = None, steps: int | None = None, out_dir: str = "fuzz-failures",
         progress: bool = False) -> Report:
    """Run the state machine under a profile; return what it did and found (never raises for a finding;
    ``ValueError`` for a subject that cannot be loaded, before anything runs)."""
    subject_factory(subject)
    machine = lifecycle_machine(subject, venue, seed=seed, out_dir=out_dir)
    overrides: dict[str, Any] = {}
    if examples is not None:
        overrides["max_examples"] = examples
    if steps is not None:
        overrides["stateful_step_count"] = steps
    chosen = profile(profile_name, **overrides)
    if progress:
        _report_progress(machine)
    test = get_state_machine_test(machine, settings=chosen)
    if profile_name != "ci":
        test = hypothesis.seed(seed)(test)  # ci is derandomized: the same examples on every run
    started = time.perf_counter()
    found = None
    try:
        test()
    except FuzzFailure as failure:
        found = str(failure)
    except BaseExceptionGroup as group:
        # Several failures, or one Hypothesis could not make happen again (FlakyFailure): a finding
        # when an invariant broke in it (a flaky run is a bug of its own), else an error of the run.
        if group.subgroup(FuzzFailure) is None:
            raise
        found = _group_finding(group)
    wall = time.perf_counter() - started
    stats = machine.stats
    if found is not None and stats.notes:  # what a failed run's clean-up raised, beside the failure
        found += "".join(f"\nalso, after the failure: {note}" for note in dict.fromkeys(stats.notes))
    return Report(subject, venue, seed, profile_name, stats.examples, stats.steps, stats.failures, wall, found,
                  stats.last_failure if found else None)


def _group_finding(group: BaseExceptionGroup) -> str:
    leaves = _leaves(group)
    text = "\n\n".join(str(f) for f in leaves if isinstance(f, FuzzFailure))
    others = [f"{type(e).__name__}: {e}" for e in leaves if not isinstance(e, FuzzFailure)]
    if others:
        text += "\nalso raised: " + "; ".join(others)
    if isinstance(group, hypothesis.errors.FlakyFailure):
        text += "\n(flaky: Hypothesis could not make it fail again; the scenario file holds the program that failed)"
    return text


def _leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _report_progress(machine: type[LifecycleMachine]) -> None:
    started = time.perf_counter()
    stats = machine.stats

    def report(done: LifecycleMachine) -> None:
        wall = time.perf_counter() - started
        print(f"example {stats.examples}: {len(done.program.steps)} steps, {stats.steps} in all,"
              f" {stats.failures} failing, {stats.steps / wall:.0f} steps/s", file=sys.stderr, flush=True)

    machine.on_example_end = report


def _at_least_one(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subject", default="bot", help="bot, seed-flow, or module:factory (default bot)")
    parser.add_argument("--venue", default="bybit", choices=["bybit", "binance"])
    parser.add_argument("--examples", type=_at_least_one, help="how many examples (default: the profile's)")
    parser.add_argument("--steps", type=_at_least_one, help="the most steps in one example (default: the profile's)")
    parser.add_argument("--seed", type=int, default=0, help="the world's seed, and Hypothesis's outside ci")
    parser.add_argument("--profile", default="ci", choices=PROFILES)
    parser.add_argument("--out", default="fuzz-failures", help="where a failure's scenario file is written")
    parser.add_argument("--json", action="store_true", help="one JSON object: examples, steps, failures, ...")


def main(args: argparse.Namespace) -> int:
    import json
    import logging

    logging.getLogger("bot").setLevel(logging.CRITICAL)  # its journal is in the trace; the terminal shows progress

    try:
        report = fuzz(args.subject, args.venue, seed=args.seed, profile_name=args.profile, examples=args.examples,
                      steps=args.steps, out_dir=args.out, progress=True)
    except ValueError as error:
        print(f"cannot fuzz {args.subject!r}: {error}", file=sys.stderr)
        return 2
    except SubjectUnavailable as error:
        # No run was made: whatever Hypothesis printed on the way, this is no finding.
        print(f"the fuzzer could not run its subject, not a finding: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - the command's top level: an error of the run, told as such
        # Invariants broken are FuzzFailures, handled in fuzz(); this is Hypothesis refusing the run
        # (a health check, a strategy that could not replay) or a bug of the fuzzer's own.
        leaves = "; ".join(f"{type(e).__name__}: {e}" for e in _leaves(error))
        print(f"the fuzzer stopped on an error of the run, not a finding: {leaves}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print(f"{report.subject} on {report.venue}: {report.examples} examples, {report.steps} steps,"
              f" {report.failures} failing, {report.wall_s:.1f} s wall, {report.steps_per_s:.0f} steps/s")
        if report.found:
            print(report.found)
    return 1 if report.found else 0
