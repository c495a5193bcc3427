from __future__ import annotations

import re
import subprocess
import sys

import pytest

from scenarios.gigausdt_venue import replay
from scenarios.model import library
from virtualtime.runtime import DEFAULT_START_MS


@pytest.mark.virtual_time
async def test_the_incident_mechanics_reproduce_and_the_timeline_follows_the_seed() -> None:
    first, again, other = await replay(seed=11), await replay(seed=11), await replay(seed=12)
    assert first.reproduced, first.findings
    assert len(first.findings) == 4
    created_id = first.timeline[0].split("id=")[1].split()[0]
    assert created_id != other.timeline[0].split("id=")[1].split()[0]
    # On virtual time the whole timeline repeats, timestamps included (each replay starts where the last ended).
    assert [line.split(None, 1)[1] for line in again.timeline] == [line.split(None, 1)[1] for line in first.timeline]


def test_the_main_job_replays_on_virtual_time_and_repeats_exactly() -> None:
    runs = [
        subprocess.run([sys.executable, "-m", "scenarios", "replay", "--seed", "5"],
                       capture_output=True, text=True, timeout=120, check=True).stdout
        for _ in range(2)
    ]
    # Everything but the wall time repeats: timelines, verdicts, trace hashes.
    assert [re.sub(r"in \d+ ms", "", run) for run in runs] == [re.sub(r"in \d+ ms", "", runs[0])] * 2
    lines = runs[0].splitlines()
    first_stamp = int(lines[lines.index("== gigausdt-venue-mechanics (seed 5)") + 1].split()[0])
    assert DEFAULT_START_MS <= first_stamp < DEFAULT_START_MS + 60_000  # virtual 2026-01-01, not today
    assert "NOT REPRODUCED" not in runs[0] and runs[0].count("[reproduced]") == 4
    expectations = sum(len(s.expectations) for s in library().values())
    assert "NOT AS EXPECTED" not in runs[0] and runs[0].count(", as expected (") == expectations >= 10


def test_the_command_line_rejects_unknown_names() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", "replay", "no-such-incident"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "no scenario named ['no-such-incident']" in result.stderr
