"""``python -m scenarios replay``: replay the named incidents and report whether each reproduced."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from scenarios import gigausdt_phantom, gigausdt_venue, reference_run
from simulator.simulation import Simulation, simulation

REPLAYS: dict[str, Callable[[Simulation], Awaitable[Any]]] = {
    gigausdt_phantom.NAME: gigausdt_phantom.replay,
    gigausdt_venue.NAME: lambda sim: gigausdt_venue.replay(sim.seed),
}
# Runs on virtual time whose whole trace identifies them.
TRACED = {reference_run.NAME: reference_run.reference_run}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("replay", help="replay named incidents (all by default)")
    run.add_argument("names", nargs="*", metavar="NAME", help=f"any of {sorted(REPLAYS)}")
    run.add_argument("--seed", type=int, default=0)
    traced = commands.add_parser("trace", help="run a traced scenario on virtual time; print its trace digest")
    traced.add_argument("name", choices=sorted(TRACED))
    traced.add_argument("--seed", type=int, default=0)
    traced.add_argument("--save", metavar="PATH", help="also write the trace as JSON lines")
    traced.add_argument("--timeline", action="store_true", help="also print the trace, one record a line")
    args = parser.parse_args()
    if args.command == "trace":
        return _trace(args.name, args.seed, args.save, args.timeline)
    unknown = sorted(set(args.names) - set(REPLAYS))
    if unknown:
        parser.error(f"no incident named {unknown}; the named incidents are {sorted(REPLAYS)}")
    failed = 0
    for name in args.names or sorted(REPLAYS):
        with simulation(seed=args.seed) as sim:  # virtual time: same seed, same timeline
            result = sim.run(lambda: REPLAYS[name](sim))
        print(f"== {name} (seed {args.seed})")
        for line in result.timeline:
            print(f"  {line}")
        for finding, held in result.findings.items():
            print(f"  [{'reproduced' if held else 'NOT REPRODUCED'}] {finding}")
        failed += not result.reproduced
    return 1 if failed else 0


def _trace(name: str, seed: int, save: str | None, timeline: bool) -> int:
    with simulation(seed=seed) as sim:
        sim.run(lambda: TRACED[name](sim))
    if timeline:
        print(sim.trace.timeline())
    if save:
        sim.trace.save(save)
    print(f"{name} seed={seed} records={len(sim.trace)} simulated_ms={sim.now_ms() - sim.start_ms} digest={sim.trace.digest()}")
    return 0


sys.exit(main())
