"""``python -m scenarios replay``: replay the named incidents and report whether each reproduced."""

from __future__ import annotations

import argparse
import asyncio
import sys

from scenarios import gigausdt_venue

REPLAYS = {gigausdt_venue.NAME: gigausdt_venue.replay}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("replay", help="replay named incidents (all by default)")
    run.add_argument("names", nargs="*", metavar="NAME", help=f"any of {sorted(REPLAYS)}")
    run.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(REPLAYS))
    if unknown:
        parser.error(f"no incident named {unknown}; the named incidents are {sorted(REPLAYS)}")
    failed = 0
    for name in args.names or sorted(REPLAYS):
        result = asyncio.run(REPLAYS[name](args.seed))
        print(f"== {name} (seed {args.seed})")
        for line in result.timeline:
            print(f"  {line}")
        for finding, held in result.findings.items():
            print(f"  [{'reproduced' if held else 'NOT REPRODUCED'}] {finding}")
        failed += not result.reproduced
    return 1 if failed else 0


sys.exit(main())
