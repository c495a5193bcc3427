"""How fast the fuzzer drives the whole stack: state-machine steps per second (venue, ccxt, bot, SQLite).

Run: ``.venv/bin/python -m benchmarks.fuzz [--examples N] [--steps N] [--workers N] [--out PATH]``;
results are kept in benchmarks/results/. It only measures and prints: nothing here asserts.

1. One process: the bot fuzzed on each venue (no failure expected), examples of up to ``--steps``
   steps, under the ci profile (derandomized, no example database: the same examples every run).
   Each venue with ``--seeds`` seeds in turn: the examples differ by seed, and so does their cost.
2. Several processes at once (as ``pytest -n`` runs them): ``--workers`` processes fuzzing the
   bot with different seeds, on each venue; steps per second in all and per process.
A step is one rule of the state machine (a signal, a price move, a fault, a wait, a restart, ...);
each example also pays for a fresh world and its teardown (faults cleared, two minutes to converge).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

import ccxt

from benchmarks.report import Report
from scenarios.fuzz.cli import fuzz


def one(venue: str, seed: int, examples: int, steps: int) -> dict[str, Any]:
    report = fuzz("bot", venue, seed=seed, profile_name="ci", examples=examples, steps=steps,
                  out_dir="benchmarks/results/fuzz-failures")
    return report.as_json()


def parallel(venue: str, workers: int, examples: int, steps: int) -> tuple[float, list[dict[str, Any]]]:
    command = [sys.executable, "-m", "benchmarks.fuzz", "--worker", venue, "--examples", str(examples),
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
    parser.add_argument("--seeds", type=int, default=4, help="one-process runs per venue, seeds 0..N-1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--worker", metavar="VENUE", help=argparse.SUPPRESS)
    parser.add_argument("--out", metavar="PATH", help="also write the report here")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(one(args.worker, args.seed, args.examples, args.steps)), flush=True)
        return
    emit = Report()

    started = time.perf_counter()
    emit(f"fuzz benchmark, {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}")
    emit(f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()},"
         f" {os.cpu_count()} CPUs; ccxt {ccxt.__version__}")
    emit(f"bot fuzzed, ci profile (derandomized): {args.examples} examples of up to {args.steps} steps")
    emit()
    emit("one process                  examples   steps   failures   wall s   steps/s")
    for venue in ("bybit", "binance"):
        rates = []
        for seed in range(args.seed, args.seed + args.seeds):
            r = one(venue, seed, args.examples, args.steps)
            rates.append(r["steps_per_s"])
            emit(f"  {venue + ', seed ' + str(seed):<26} {r['examples']:>8} {r['steps']:>7} {r['failures']:>10}"
                 f" {r['wall_s']:>8.1f} {r['steps_per_s']:>9.1f}")
        emit(f"  {venue}: median {statistics.median(rates):.1f} steps/s, lowest {min(rates):.1f}")
    for venue in ("bybit", "binance"):
        wall, reports = parallel(venue, args.workers, args.examples, args.steps)
        total = sum(r["steps"] for r in reports)
        emit()
        emit(f"{args.workers} processes at once ({venue}, seeds 1..{args.workers})")
        for r in reports:
            emit(f"  seed {r['seed']:<21} {r['examples']:>8} {r['steps']:>7} {r['failures']:>10}"
                 f" {r['wall_s']:>8.1f} {r['steps_per_s']:>9.1f}")
        emit(f"  in all: {total} steps in {wall:.1f} s wall (process start included) = {total / wall:.1f} steps/s,"
             f" {total / wall / args.workers:.1f} per process")
        start_up = wall - max(r["wall_s"] for r in reports)
        emit(f"  of which process start-up and exit (imports of ccxt, aiohttp, hypothesis): {start_up:.1f} s,"
             " paid once per process however long it fuzzes")
    emit()
    emit(f"benchmark took {time.perf_counter() - started:.0f} s real time")
    emit.write(args.out)


if __name__ == "__main__":
    main()
