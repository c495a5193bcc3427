"""The bot's one source of time, injected everywhere (tests and the harness's virtual time drive it)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock milliseconds. Under the harness's virtual time ``time.time_ns`` is the venue's clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000
