"""How fast the fuzzer drives the whole stack: state-machine steps per second (venue, ccxt, bot, SQLite).

Run: ``.venv/bin/python -m benchmarks.fuzz [--examples N] [--steps N] [--workers N] [--out PATH]``;
results are kept in benchmarks/results/. It only measures and prints: nothing here asserts.

1. One process: the bot fuzzed on each venue (no failure expected), examples of up to ``--steps``
   steps, under the ci profile (derandomized, no example database: the same examples every run).
2. Several processes at once (as ``pytest -n`` runs them): ``--workers`` processes fuzzing the
   bot on Bybit with different seeds; steps per second in all and per process.
A step is one rule of the state machine (a signal, a price move, a fault, a wait, a restart, ...);
each example also pays for a fresh world and its teardown (faults cleared, two minutes to converge).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from typing import Any

import ccxt

from scenarios.fuzz.cli import fuzz


def one(venue: str, seed: int, examples: int, steps: int) -> dict[str, Any]:
    report = fuzz("bot", venue, seed=seed, profile_name="ci", examples=examples, steps=steps,
                  out_dir="benchmarks/results/fuzz-failures")
    return report.as_json()


def parallel(workers: int, examples: int, steps: int) -> tuple[float, list[dict[str, Any]]]:
    command = [sys.executable, "-m", "benchmarks.fuzz", "--worker", "--examples", str(examples),
               "--steps", str(steps)]
    started = time.perf_counter()
    procs = [subprocess.Popen([*command, "--seed", str(seed)], stdout=subprocess.PIPE, text=True)
             for seed in range(1, workers + 1)]
    reports = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return time.perf_counter() - started, reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", metavar="PATH", help="also write the report here")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(one("bybit", args.seed, args.examples, args.steps)), flush=True)
        return
    lines: list[str] = []

    def emit(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    started = time.perf_counter()
    emit(f"fuzz benchmark, {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    emit(f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()},"
         f" {os.cpu_count()} CPUs; ccxt {ccxt.__version__}")
    emit(f"bot fuzzed, ci profile (derandomized): {args.examples} examples of up to {args.steps} steps")
    emit()
    emit("one process                  examples   steps   failures   wall s   steps/s")
    for venue in ("bybit", "binance"):
        r = one(venue, args.seed, args.examples, args.steps)
        emit(f"  {venue:<26} {r['examples']:>8} {r['steps']:>7} {r['failures']:>10} {r['wall_s']:>8.1f}"
             f" {r['steps_per_s']:>9.1f}")
    wall, reports = parallel(args.workers, args.examples, args.steps)
    total = sum(r["steps"] for r in reports)
    emit()
    emit(f"{args.workers} processes at once (bybit, seeds 1..{args.workers})")
    for r in reports:
        emit(f"  seed {r['seed']:<21} {r['examples']:>8} {r['steps']:>7} {r['failures']:>10} {r['wall_s']:>8.1f}"
             f" {r['steps_per_s']:>9.1f}")
    emit(f"  in all: {total} steps in {wall:.1f} s wall = {total / wall:.1f} steps/s,"
         f" {total / wall / args.workers:.1f} per process")
    emit()
    emit(f"benchmark took {time.perf_counter() - started:.0f} s real time")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
