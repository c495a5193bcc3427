"""Subjects a scenario runs against: our ``bot``, ``seed-flow`` (the incident's flow, known bad), or yours.

A subject is an object with the methods of ``Subject``. Run your own with
``python -m scenarios replay NAME --subject package.module:factory``, where ``factory(seed)`` returns
one. The runner tells it when to open, close, run its synchronizer and restart; it judges the
outcome from the venue's own state and from what the subject's database says it holds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Protocol

from simulator.server import RunningBinance, RunningVenue
from virtualtime.trace import Recorder


class Subject(Protocol):
    name: str

    async def start(self, venue: RunningVenue | RunningBinance, workdir: Path, trace: Recorder) -> None:
        """Connect to ``venue`` and open (or reopen) the database under ``workdir``; report events to ``trace``."""

    async def open(self, symbol: str, side: str, qty: Decimal) -> bool:
        """Open a position; True if the subject reports it open. Raising counts as reporting failure."""

    async def close_position(self, symbol: str) -> bool: ...

    async def sync_pass(self) -> None:
        """One synchronizer pass, as the subject would run it."""

    async def restart(self) -> None:
        """Die and come back on the same database (the runner has already cancelled its pending calls)."""

    def db_positions(self) -> list[tuple[str, str, Decimal]]:
        """(ccxt symbol, long|short, size) for each position the subject's database holds open."""

    def pending_symbols(self) -> frozenset[str]:
        """Symbols on which the database records an entry still being worked out."""

    async def close(self) -> None: ...


Factory = Callable[[int], Subject]


def factory(name: str) -> Factory:
    """The factory for a built-in subject name or a ``module:attribute`` path."""
    from scenarios.subjects.known_bad import KnownBadBot
    from scenarios.subjects.ours import OurBot

    builtin: dict[str, Factory] = {"bot": OurBot, "seed-flow": lambda seed: KnownBadBot()}
    if name in builtin:
        return builtin[name]
    module_name, _, attribute = name.partition(":")
    if not attribute:
        raise ValueError(f"no subject {name!r}: use one of {sorted(builtin)} or module:factory")
    try:
        made = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load subject {name!r}: {error}") from None
    if not callable(made):
        raise ValueError(f"subject {name!r} is not callable; it must be a factory taking the seed")
    return made  # type: ignore[no-any-return]
