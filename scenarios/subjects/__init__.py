"""Subjects a scenario runs against: our ``bot``, and the known-bad reproduction of the incident's flow.

A subject starts against a served venue, opens a position when told, runs a synchronizer pass
when told, and says which positions its database holds. The scenario checks the rest from the
venue's own state.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Protocol

from simulator.server import RunningVenue
from virtualtime.trace import Recorder


class Subject(Protocol):
    name: str

    async def start(self, venue: RunningVenue, workdir: Path, trace: Recorder) -> None: ...

    async def open(self, symbol: str, side: str, qty: Decimal) -> None:
        """Open a position; a subject may fail (raise) as it would in production."""

    async def sync_pass(self) -> None: ...

    def db_positions(self) -> list[tuple[str, str, Decimal]]:
        """(ccxt symbol, long|short, size) for each position the subject's database holds open."""

    async def close(self) -> None: ...
