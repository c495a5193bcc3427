"""``python -m scenarios``: list and replay the named incident scenarios; trace the reference run.

    python -m scenarios list
    python -m scenarios replay                                   # every scenario, against its subjects
    python -m scenarios replay gigausdt-phantom-position --subject seed-flow --seed 3 --json
    python -m scenarios replay NAME --subject mypackage.mybot:make_subject
    python -m scenarios replay path/to/found.toml --seed 7       # a scenario file anywhere, e.g. the fuzzer's
    python -m scenarios fuzz --subject seed-flow --examples 50 --json

Exit status 0 if and only if every expectation held: each scenario's subjects pass or fail as the
scenario says (a subject it does not name must pass).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence

from scenarios import gigausdt_venue, reference_run
from scenarios.fuzz import cli as fuzz_cli
from scenarios.model import ScenarioError, library, load
from scenarios.runner import StepHung, Verdict, replay
from simulator.simulation import simulation

# Replays of venue mechanics through ccxt alone (no subject), shown next to the scenarios.
MECHANICS = {gigausdt_venue.NAME: gigausdt_venue.replay}
# Runs on virtual time whose whole trace identifies them.
TRACED = {reference_run.NAME: reference_run.reference_run}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the named scenarios, with their titles and subjects")
    run = commands.add_parser("replay", help="replay scenarios (all when none is named) and judge them")
    run.add_argument("names", nargs="*", metavar="NAME", help="a library scenario's id, or a scenario file's path")
    run.add_argument("--all", action="store_true", help="every scenario (the default when no NAME is given)")
    run.add_argument("--subject", help="bot, seed-flow, or module:factory (default: each the scenario names)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--json", action="store_true", help="one JSON object per scenario and subject")
    run.add_argument("--log-level", default="ERROR", help="the subjects' own logs on stderr (default ERROR)")
    fuzzing = commands.add_parser("fuzz", help="fuzz a subject with the Hypothesis state machine")
    fuzz_cli.add_arguments(fuzzing)
    traced = commands.add_parser("trace", help="run a traced scenario on virtual time; print its trace digest")
    traced.add_argument("name", choices=sorted(TRACED))
    traced.add_argument("--seed", type=int, default=0)
    traced.add_argument("--save", metavar="PATH", help="also write the trace as JSON lines")
    traced.add_argument("--timeline", action="store_true", help="also print the trace, one record a line")
    args = parser.parse_args(argv)
    try:
        scenarios = library()
    except ScenarioError as error:
        print(f"scenario library: {error}", file=sys.stderr)
        return 2
    if args.command == "list":
        for scenario in scenarios.values():
            subjects = ", ".join(f"{e.subject} {'passes' if e.passes else 'fails'}" for e in scenario.expectations)
            print(f"{scenario.id:34} {scenario.title}  [{subjects}]")
        for name in MECHANICS:
            print(f"{name:34} venue mechanics through ccxt alone (no subject)")
        return 0
    if args.command == "trace":
        return _trace(args.name, args.seed, args.save, args.timeline)
    if args.command == "fuzz":
        return fuzz_cli.main(args)
    # The subjects' journals are in the timeline; their log lines would only repeat them.
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    names = args.names or [*scenarios, *MECHANICS]
    for name in names:
        if name.endswith(".toml"):
            try:
                found = load(name)
            except (OSError, ScenarioError) as error:
                print(f"cannot read scenario file {name}: {error}", file=sys.stderr)
                return 2
            scenarios[name] = found
    unknown = sorted(set(names) - set(scenarios) - set(MECHANICS))
    if unknown:
        parser.error(f"no scenario named {unknown}; `python -m scenarios list` shows them")
    held = True
    for name in list(names):
        if name in MECHANICS:
            held &= _mechanics(name, args.seed, args.json)
            continue
        scenario = scenarios[name]
        chosen: list[str] = [args.subject] if args.subject else [e.subject for e in scenario.expectations] or ["bot"]
        for subject in chosen:
            try:
                verdict = replay(scenario, subject, args.seed)
            except ValueError as error:
                print(f"cannot replay {name} against {subject!r}: {error}", file=sys.stderr)
                return 2
            except StepHung as error:
                print(f"== {name} / {subject} (seed {args.seed}): cannot be judged: {error}", flush=True)
                held = False
                continue
            held &= verdict.expectation_held
            print(json.dumps(verdict.as_json()) if args.json else _human(verdict), flush=True)
    return 0 if held else 1


def _human(verdict: Verdict) -> str:
    scenario = verdict.scenario
    expected = scenario.expectation(verdict.subject)
    lines = [f"== {scenario.id} / {verdict.subject} (seed {verdict.seed}): {scenario.title}"]
    lines += [f"  {line}" for line in verdict.timeline]
    outcome = "PASS" if verdict.passed else "FAIL"
    judged = "as expected" if verdict.expectation_held else "NOT AS EXPECTED"
    wanted = "to pass" if expected.passes else f"to fail with {list(expected.violations)}"
    lines.append(f"  verdict: {outcome}, {judged} ({verdict.subject} is expected {wanted});"
                 f" {verdict.simulated_ms} ms simulated in {verdict.wall_ms} ms, trace {verdict.trace_sha256[:16]}")
    lines += [f"    - {v.line(verdict.start_ms)}" for v in verdict.violations]
    return "\n".join(lines)


def _mechanics(name: str, seed: int, as_json: bool) -> bool:
    started = time.perf_counter()
    with simulation(seed=seed) as sim:
        result = sim.run(lambda: MECHANICS[name](seed, sim.trace))
        simulated = sim.now_ms() - sim.start_ms
    if as_json:
        # The verdicts' fields: every mechanic is expected to reproduce; one that did not is a violation.
        print(json.dumps({
            "scenario": name, "venue": "bybit", "subject": "ccxt", "seed": seed, "passed": result.reproduced,
            "expected_to_pass": True, "expectation_held": result.reproduced,
            "violations": [{"invariant": finding, "since_ms": None, "until_ms": None, "evidence": "not reproduced"}
                           for finding, held in result.findings.items() if not held], "simulated_ms": simulated,
            "wall_ms": int((time.perf_counter() - started) * 1000), "trace_sha256": sim.trace.digest(),
        }))
        return bool(result.reproduced)
    print(f"== {name} (seed {seed})")
    for line in result.timeline:
        print(f"  {line}")
    for finding, held in result.findings.items():
        print(f"  [{'reproduced' if held else 'NOT REPRODUCED'}] {finding}")
    return bool(result.reproduced)


def _trace(name: str, seed: int, save: str | None, timeline: bool) -> int:
    with simulation(seed=seed) as sim:
        sim.run(lambda: TRACED[name](sim))
    if timeline:
        print(sim.trace.timeline())
    if save:
        sim.trace.save(save)
    print(f"{name} seed={seed} records={len(sim.trace)} simulated_ms={sim.now_ms() - sim.start_ms} digest={sim.trace.digest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
