"""Where a run keeps its subject's files (the bot's SQLite database): in RAM when the host offers it.

The database is real SQLite either way, and a crash-and-restart step reopens the same file. On
disk, every commit of the bot's (WAL, synchronous=FULL) waits for an fsync: about 0.7 ms on the
machine in benchmarks/RESULTS.md, a sixth of what a fuzzed step costs. In a memory-backed
directory the same commit takes microseconds. Set TMPDIR to keep the files somewhere else.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

RAM_DIR = Path("/dev/shm")


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for one run: under TMPDIR when set, else in /dev/shm where writable."""
    in_ram = "TMPDIR" not in os.environ and RAM_DIR.is_dir() and os.access(RAM_DIR, os.W_OK)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=str(RAM_DIR) if in_ram else None)
