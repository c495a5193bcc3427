"""A run's files live in RAM where the host offers it, under TMPDIR when the user says so; what killed
runs leave behind is removed by the next process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scenarios.scratch import LOCK, MARK, MIN_FREE_BYTES, RAM_DIR, scratch_dir, sweep_orphans


def _roomy() -> bool:
    if not RAM_DIR.is_dir() or not os.access(RAM_DIR, os.W_OK):
        return False
    stats = os.statvfs(RAM_DIR)
    return stats.f_bavail * stats.f_frsize >= MIN_FREE_BYTES


@pytest.mark.skipif(not _roomy(), reason="the host has no roomy /dev/shm")
def test_a_run_keeps_its_database_in_ram(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("tempfile.tempdir", None)
    with scratch_dir("probe-") as where:
        assert Path(where).parent == RAM_DIR
        assert Path(where).name.startswith(f"{MARK}probe-")
    assert not Path(where).exists()  # removed with the run


@pytest.mark.parametrize("variable", ["TMPDIR", "TEMP", "TMP"])
def test_the_users_temporary_directory_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str) -> None:
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # tempfile caches the directory it chose first
    with scratch_dir("probe-") as where:
        assert Path(where).parent == tmp_path


def test_a_temporary_directory_set_in_code_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    with scratch_dir("probe-") as where:
        assert Path(where).parent == tmp_path


_HOLD = """
import sys, time
from scenarios.scratch import scratch_dir
with scratch_dir("held-") as where:
    print(where, flush=True)
    time.sleep(60)
"""


def test_a_killed_runs_directory_is_removed_and_a_live_ones_kept(tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    runs = [subprocess.Popen([sys.executable, "-c", _HOLD], stdout=subprocess.PIPE, text=True, env=env)
            for _ in range(2)]
    try:
        killed, living = (Path(run.stdout.readline().strip()) for run in runs)  # type: ignore[union-attr]
        runs[0].kill()
        runs[0].wait()
        unlocked = tmp_path / f"{MARK}fuzz-old"  # ours by name, but no lock: left alone
        unlocked.mkdir()
        foreign = tmp_path / "fuzz-abc"
        foreign.mkdir()

        assert sweep_orphans(str(tmp_path)) == [killed]
        assert not killed.exists()
        assert (living / LOCK).exists() and unlocked.exists() and foreign.exists()
    finally:
        for run in runs:
            run.kill()
            run.wait()
    assert sweep_orphans(str(tmp_path / "missing")) == []


def test_a_run_sweeps_its_directory_before_making_its_own(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    orphan = tmp_path / f"{MARK}scenario-abc"
    orphan.mkdir()
    (orphan / LOCK).touch()  # its run died: nobody holds the lock
    with scratch_dir("probe-") as where:
        assert Path(where).parent == tmp_path
        assert sweep_orphans(str(tmp_path)) == []  # a live run's own directory is never taken
    assert not orphan.exists() and not Path(where).exists()


_FORK = """
import os, sys
from scenarios.scratch import scratch_dir
with scratch_dir("forked-") as where:
    child = os.fork()
    if child == 0:
        sys.exit(0)  # the child leaves through the same block, as a normal exit unwinds it
    os.waitpid(child, 0)
    print(os.path.isdir(where), flush=True)
print(os.path.isdir(where), flush=True)
"""


def test_a_forked_child_leaving_normally_keeps_its_parents_directory(tmp_path: Path) -> None:
    import subprocess
    import sys

    ran = subprocess.run([sys.executable, "-c", _FORK], capture_output=True, text=True, check=True,
                         env={**os.environ, "TMPDIR": str(tmp_path)}, timeout=60)

    assert ran.stdout.split() == ["True", "False"]  # kept for the parent's run, removed when it ends
