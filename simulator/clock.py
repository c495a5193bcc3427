"""The one clock every venue timestamp comes from.

Engine and wire code never read the system clock themselves: they are handed a
``Clock``. ``WallClock`` is for standalone serving and for tests where the client
(ccxt) also reads the wall clock; ``ManualClock`` is for unit tests that move time
by hand. The virtual event loop provides its own implementation.
"""

from __future__ import annotations

import time
from typing import Protocol

NS_PER_MS = 1_000_000


class Clock(Protocol):
    def time_ns(self) -> int:
        """Nanoseconds since the Unix epoch, as an exact integer."""


def now_ms(clock: Clock) -> int:
    # Derive milliseconds from integer nanoseconds: float seconds drift by a millisecond at 2026 epochs.
    return clock.time_ns() // NS_PER_MS


class WallClock:
    """Reads the host's real-time clock."""

    def time_ns(self) -> int:
        return time.time_ns()

    def __repr__(self) -> str:
        return "WallClock()"


class ManualClock:
    """A clock that moves only when told to."""

    __test__ = False

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:
        # Default start: 2026-01-01T00:00:00Z, a plausible venue time.
        self._ns = start_ms * NS_PER_MS

    def time_ns(self) -> int:
        return self._ns

    def advance_ms(self, ms: int) -> None:
        if ms < 0:
            raise ValueError(f"a clock only moves forward; advance_ms was given ms={ms}")
        self._ns += ms * NS_PER_MS

    def set_ms(self, ms: int) -> None:
        if ms * NS_PER_MS < self._ns:
            raise ValueError(f"a clock only moves forward; set_ms({ms}) is before now={self._ns // NS_PER_MS}")
        self._ns = ms * NS_PER_MS

    def __repr__(self) -> str:
        return f"ManualClock(now_ms={self._ns // NS_PER_MS})"
