"""A run's files live in RAM where the host offers it, under TMPDIR when the user says so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scenarios.scratch import MIN_FREE_BYTES, RAM_DIR, scratch_dir


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
        assert Path(where).name.startswith("probe-")
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
