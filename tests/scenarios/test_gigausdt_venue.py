from __future__ import annotations

import subprocess
import sys

from scenarios.gigausdt_venue import replay


async def test_the_incident_mechanics_reproduce_and_the_ids_follow_the_seed() -> None:
    first, again, other = await replay(seed=11), await replay(seed=11), await replay(seed=12)
    assert first.reproduced, first.findings
    assert len(first.findings) == 4
    created_id = first.timeline[0].split("id=")[1].split()[0]
    assert created_id == again.timeline[0].split("id=")[1].split()[0]
    assert created_id != other.timeline[0].split("id=")[1].split()[0]


def test_the_command_line_rejects_unknown_names() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scenarios", "replay", "no-such-incident"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "no incident named ['no-such-incident']" in result.stderr
