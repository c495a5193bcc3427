"""Invariant checks over snapshots of the venue and a subject's database, as pure functions.

A ``Snapshot`` is what the venue itself holds (engine truth, not a client's view) and what the
subject's database says it holds, at one virtual instant. ``Watch`` turns a series of snapshots
into violations with evidence: when a condition started, when it was last seen, and the values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

Holding = tuple[str, str, Decimal]  # (ccxt symbol, long|short, size)


@dataclass(frozen=True, slots=True)
class Snapshot:
    at_ms: int
    venue: tuple[Holding, ...]
    protected: frozenset[str]  # symbols whose venue position a stop (order or position SL) covers
    database: tuple[Holding, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    since_ms: int
    until_ms: int
    evidence: str

    def line(self, start_ms: int) -> str:
        return (f"{self.invariant}: {self.evidence} from T+{self.since_ms - start_ms} ms"
                f" to T+{self.until_ms - start_ms} ms")


def phantoms(snapshot: Snapshot) -> list[str]:
    """Venue exposure the database does not hold (by symbol, side and size)."""
    held = set(snapshot.database)
    return [f"venue {side} {size} {symbol} not in the database" for symbol, side, size in snapshot.venue
            if (symbol, side, size) not in held]


def unprotected(snapshot: Snapshot) -> list[str]:
    return [f"venue {side} {size} {symbol} has no stop" for symbol, side, size in snapshot.venue
            if symbol not in snapshot.protected]


def ghosts(snapshot: Snapshot) -> list[str]:
    """Database positions the venue does not hold."""
    venue = set(snapshot.venue)
    return [f"database {side} {size} {symbol} not on the venue" for symbol, side, size in snapshot.database
            if (symbol, side, size) not in venue]


CHECKS = {"phantom position": phantoms, "unprotected position": unprotected, "database ahead of venue": ghosts}


@dataclass
class Watch:
    """Conditions seen across snapshots; one lasting longer than ``grace_ms`` is a violation."""

    grace_ms: int
    open_since: dict[tuple[str, str], int] = field(default_factory=dict)
    last_seen: dict[tuple[str, str], int] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    def observe(self, snapshot: Snapshot) -> None:
        seen = {(name, detail) for name, check in CHECKS.items() for detail in check(snapshot)}
        for key in seen:
            self.open_since.setdefault(key, snapshot.at_ms)
            self.last_seen[key] = snapshot.at_ms
        for key in [k for k in self.open_since if k not in seen]:
            self._close(key)

    def finish(self) -> list[Violation]:
        for key in list(self.open_since):
            self._close(key)
        return sorted(self.violations, key=lambda v: (v.since_ms, v.invariant))

    def _close(self, key: tuple[str, str]) -> None:
        since, until = self.open_since.pop(key), self.last_seen.pop(key)
        if until - since > self.grace_ms:
            self.violations.append(Violation(key[0], since, until, key[1]))


def first(violations: Iterable[Violation], invariant: str) -> Violation | None:
    return next((v for v in violations if v.invariant == invariant), None)
