"""A whole simulated world (venue + ccxt + ccxt.pro on virtual time): one seed, one trace, in any process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from scenarios.reference_run import reference_run
from simulator.server import DEFAULT_API_KEY, DEFAULT_API_SECRET
from simulator.simulation import Simulation, simulation

ROOT = Path(__file__).resolve().parents[2]


def _run(seed: int) -> Simulation:
    with simulation(seed=seed) as sim:
        outcome = sim.run(lambda: reference_run(sim))
    assert outcome.simulated_ms > 300_000 and outcome.polls_until_filled > 1
    return sim


def test_the_trace_holds_every_actor_and_kind_and_repeats_exactly() -> None:
    first = _run(seed=3)
    kinds = Counter((r.actor, r.kind) for r in first.trace.records)
    for expected in [("bybit", "rest.request"), ("bybit", "rest.response"), ("bybit", "ws.open"), ("bybit", "ws.in"),
                     ("bybit", "ws.out"), ("bybit", "ws.close"), ("bybit", "order"), ("bybit", "execution"),
                     ("bybit", "position"), ("bybit", "wallet"), ("bybit", "ticker"), ("client", "order.polled"),
                     ("client", "synced")]:
        assert kinds[expected] > 0, f"no {expected} record in the trace"
    assert kinds[("bybit", "rest.request")] == kinds[("bybit", "rest.response")] >= 20
    times = [r.at_ns for r in first.trace.records]
    assert times == sorted(times)

    again = _run(seed=3)
    assert again.trace.first_difference(first.trace) is None
    assert again.trace.digest() == first.trace.digest()
    assert _run(seed=4).trace.digest() != first.trace.digest()  # the seed reaches the ids


def test_the_trace_holds_no_credentials_signatures_or_machine_details(tmp_path: Path) -> None:
    sim = _run(seed=3)
    path = tmp_path / "trace.jsonl"
    sim.trace.save(path)
    text = path.read_text()
    assert DEFAULT_API_KEY not in text and DEFAULT_API_SECRET not in text
    assert "127.0.0.1" not in text and "localhost" not in text
    signed = [r for r in sim.trace.records if r.kind == "rest.request" and "X-BAPI-SIGN" in r.fields["headers"]]
    assert signed and {r.fields["headers"]["X-BAPI-SIGN"] for r in signed} == {"<redacted>"}
    auths = [r.fields["frame"] for r in sim.trace.records if r.kind == "ws.in" and r.fields["frame"].get("op") == "auth"]
    assert auths and all(a["args"][0] == a["args"][2] == "<redacted>" for a in auths)
    # Every timestamp is virtual: nothing stamped from the host's clock leaks in.
    start_ms, end_ms = sim.start_ms, sim.now_ms()
    stamps = [int(n) for n in re.findall(r'"(?:time|ms|creationTime|X-BAPI-TIMESTAMP)":"?(\d{13})', text)]
    assert stamps and all(start_ms <= s <= end_ms for s in stamps)


def test_the_same_seed_gives_the_same_digest_in_other_processes() -> None:
    expected = _run(seed=3).trace.digest()
    for hash_seed in ("1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-m", "scenarios", "trace", "reference-run", "--seed", "3"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
        ).stdout
        assert f"digest={expected}" in out, out


@pytest.fixture(scope="module")
def plain_api_digest() -> str:
    # Module scope: computed before the test's own virtual loop exists (one loop at a time per process).
    return _run(seed=0).trace.digest()


@pytest.mark.virtual_time
async def test_the_pytest_fixture_world_is_the_plain_api_world(plain_api_digest: str, simulation: Simulation) -> None:
    # Same seed (venue_seed defaults to 0) and start instant: the marker-driven test reproduces the
    # context manager's run record for record.
    await reference_run(simulation)
    assert simulation.trace.digest() == plain_api_digest


def test_a_world_seeds_the_global_random_module_and_puts_it_back() -> None:
    import random

    before = random.getstate()
    draws = []
    for _ in range(2):
        with simulation(seed=3):
            draws.append(random.getrandbits(88))  # what ccxt's uuid22 draws for a client order id
    assert draws[0] == draws[1]
    with simulation(seed=4):
        assert random.getrandbits(88) != draws[0]
    assert random.getstate() == before
