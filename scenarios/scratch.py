"""Where a run keeps its subject's files (the bot's SQLite database): in RAM when the host offers it.

The database is real SQLite either way, and a crash-and-restart step reopens the same file. On
disk, every commit of the bot's (WAL, synchronous=FULL) waits for an fsync: about 0.7 ms on the
machine in benchmarks/RESULTS.md, a sixth of what a fuzzed step costs. In a memory-backed
directory the same commit takes microseconds. Set TMPDIR to keep the files somewhere else.

A run removes its directory when it ends; a run killed on the spot cannot. So each directory holds
a lock for as long as its run lives (the kernel drops it when the process dies, whatever killed it),
and the first run of a process removes every directory of ours whose lock it can take. A lock, not
a process id: ids do not carry across containers sharing one /dev/shm.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

RAM_DIR = Path("/dev/shm")
# Below this much free space the RAM directory is not used: containers often give /dev/shm 64 MiB,
# and parallel workers' databases (each WAL up to a few MB) must not fill it.
MIN_FREE_BYTES = 256 * 1024 * 1024
MARK = "venue-harness-"  # every scratch directory's name starts with it
LOCK = ".alive"  # held by the run while it lives


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[str]:
    """A temporary directory for one run: where the user points temporary files (TMPDIR, TEMP, TMP,
    ``tempfile.tempdir``), else in /dev/shm when it is writable and roomy, else the system default."""
    parent = str(RAM_DIR) if _use_ram() else tempfile.gettempdir()
    _sweep_once(parent)
    where = tempfile.mkdtemp(prefix=f"{MARK}{prefix}", dir=parent)
    owner = os.getpid()
    # Locked before it takes its name, so a sweep never finds the lock free in a live run's directory.
    pending = os.path.join(where, f"{LOCK}.new")
    fd = os.open(pending, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError:
            pass  # a filesystem without locks: the directory stays unnamed as locked, so never swept
        else:
            os.rename(pending, os.path.join(where, LOCK))
        yield where
    finally:
        try:
            # Only by the process that made it: a forked child unwinding this block on its way out
            # must not take the directory from under its parent's run. Still locked while it goes,
            # so a sweep never races the run's own removal.
            if os.getpid() == owner:
                shutil.rmtree(where, ignore_errors=True)
        finally:
            os.close(fd)


def sweep_orphans(parent: str) -> list[Path]:
    """Remove the scratch directories in ``parent`` whose run is gone (killed mid-run); returns them.
    Only directories this module made (named and locked by it) are touched."""
    removed: list[Path] = []
    try:
        entries = sorted(os.scandir(parent), key=lambda entry: entry.name)
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(MARK) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            fd = os.open(os.path.join(entry.path, LOCK), os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            continue  # not ours, someone else's, or a run still making its lock
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its run holds it: alive
        try:
            shutil.rmtree(entry.path, ignore_errors=True)
        finally:
            os.close(fd)
        removed.append(Path(entry.path))
    return removed


@functools.cache
def _sweep_once(parent: str) -> None:
    # Orphans come only from runs that died: one look per process and directory is enough.
    sweep_orphans(parent)


def _use_ram() -> bool:
    if tempfile.tempdir is not None or any(name in os.environ for name in ("TMPDIR", "TEMP", "TMP")):
        return False
    try:
        stats = os.statvfs(RAM_DIR)
    except OSError:
        return False
    return os.access(RAM_DIR, os.W_OK) and stats.f_bavail * stats.f_frsize >= MIN_FREE_BYTES
