"""A run's files live in RAM where the host offers it, under TMPDIR when the user says so."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scenarios.scratch import RAM_DIR, scratch_dir


@pytest.mark.skipif(not RAM_DIR.is_dir() or not os.access(RAM_DIR, os.W_OK), reason="the host has no /dev/shm")
def test_a_run_keeps_its_database_in_ram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMPDIR", raising=False)
    with scratch_dir("probe-") as where:
        assert Path(where).parent == RAM_DIR
        assert Path(where).name.startswith("probe-")
    assert not Path(where).exists()  # removed with the run


def test_tmpdir_overrides_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # tempfile caches the directory it chose first
    with scratch_dir("probe-") as where:
        assert Path(where).parent == tmp_path
