"""The documentation's self-contained Python examples run as written (a user pastes them)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Examples that are whole programs: they begin with their imports and need no venue or fixture of ours.
WHOLE = re.compile(r"```python\n(import asyncio\n\nfrom simulator\.simulation import simulation\n.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = []
    for doc in ("README.md", "docs/virtual-time.md"):
        found += [(f"{doc}#{n}", code) for n, code in enumerate(WHOLE.findall((ROOT / doc).read_text()), 1)]
    return found


def test_the_virtual_time_examples_are_found() -> None:
    assert [name for name, _ in examples()] == ["README.md#1", "docs/virtual-time.md#1"]


@pytest.mark.parametrize(("name", "code"), examples(), ids=[name for name, _ in examples()])
def test_a_whole_program_example_runs_and_prints_its_digest(name: str, code: str) -> None:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)

    assert result.returncode == 0, f"{name} failed:\n{result.stderr}"
    assert re.fullmatch(r"[0-9a-f]{64}\n", result.stdout), result.stdout
