"""One bot process per database: two would drive the same intents and race on the venue."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bot.errors import Halt


class DatabaseLock:
    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def take(cls, database: Path) -> DatabaseLock:
        """Hold ``<database>.lock`` until released (or the process dies: the OS drops the lock)."""
        path = Path(f"{database}.lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Halt(
                f"another bot process is using {database} (it holds {path}); stop it first, or give this one"
                " its own [bot] database"
            ) from None
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
