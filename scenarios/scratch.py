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
# Below this much free space the RAM directory is not used: containers often give /dev/shm 64 MiB,
# and parallel workers' databases (each WAL up to a few MB) must not fill it.
MIN_FREE_BYTES = 256 * 1024 * 1024


def scratch_dir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for one run: where the user points temporary files (TMPDIR, TEMP, TMP,
    ``tempfile.tempdir``), else in /dev/shm when it is writable and roomy, else the system default."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=str(RAM_DIR) if _use_ram() else None)


def _use_ram() -> bool:
    if tempfile.tempdir is not None or any(name in os.environ for name in ("TMPDIR", "TEMP", "TMP")):
        return False
    try:
        stats = os.statvfs(RAM_DIR)
    except OSError:
        return False
    return os.access(RAM_DIR, os.W_OK) and stats.f_bavail * stats.f_frsize >= MIN_FREE_BYTES
