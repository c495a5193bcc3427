"""Invariant checks over snapshots of the venue and a subject's database, as pure functions.

A ``Snapshot`` is what the venue itself holds (engine truth, not a client's view) and what the
subject's database says it holds, at one virtual instant. ``Watch`` turns a series of snapshots
into violations with evidence: when a condition started, when it was last seen, and the values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

Holding = tuple[str, str, Decimal]  # (ccxt symbol, long|short, size)


def unified(venue_symbol: str) -> str:
    """A USDT linear venue symbol as ccxt writes it: ``GIGAUSDT`` -> ``GIGA/USDT:USDT``."""
    return f"{venue_symbol.removesuffix('USDT')}/USDT:USDT"


@dataclass(frozen=True, slots=True)
class Snapshot:
    at_ms: int
    venue: tuple[Holding, ...]
    protected: frozenset[str]  # symbols whose venue position a stop (order or position SL) covers
    database: tuple[Holding, ...]
    pending: frozenset[str] = frozenset()  # symbols the database records an unfinished entry on


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    since_ms: int
    until_ms: int
    evidence: str

    def line(self, start_ms: int) -> str:
        return (f"{self.invariant}: {self.evidence} from T+{self.since_ms - start_ms} ms"
                f" to T+{self.until_ms - start_ms} ms")


# A check names, per symbol, what is wrong with it now: (symbol, evidence).
Finding = tuple[str, str]


def phantoms(snapshot: Snapshot) -> list[Finding]:
    """Venue exposure the database neither holds (by symbol, side and size) nor records as being entered."""
    held = set(snapshot.database)
    return [(symbol, f"venue {side} {size} {symbol} not in the database") for symbol, side, size in snapshot.venue
            if (symbol, side, size) not in held and symbol not in snapshot.pending]


def unprotected(snapshot: Snapshot) -> list[Finding]:
    return [(symbol, f"venue {side} {size} {symbol} has no stop") for symbol, side, size in snapshot.venue
            if symbol not in snapshot.protected]


def ghosts(snapshot: Snapshot) -> list[Finding]:
    """Database positions the venue does not hold."""
    venue = set(snapshot.venue)
    return [(symbol, f"database {side} {size} {symbol} not on the venue") for symbol, side, size in snapshot.database
            if (symbol, side, size) not in venue]


def protection_removed(before: Snapshot, after: Snapshot) -> list[str]:
    """A position the venue still holds (same side, no larger) lost the stop it had: someone took it off."""
    was = {symbol: (side, size) for symbol, side, size in before.venue if symbol in before.protected}
    removed = []
    for symbol, side, size in after.venue:
        if symbol in was and symbol not in after.protected and was[symbol][0] == side and size <= was[symbol][1]:
            removed.append(f"venue {side} {size} {symbol} lost its stop while still held")
    return removed


Check = Callable[[Snapshot], list[Finding]]
CHECKS: Mapping[str, Check] = {
    "phantom position": phantoms, "unprotected position": unprotected, "database ahead of venue": ghosts,
}


@dataclass
class Watch:
    """Conditions seen across snapshots; one lasting longer than ``grace_ms`` is a violation.

    A condition is an invariant broken on a symbol, however its evidence changes meanwhile (a phantom
    that grows is the same phantom: its clock does not start again); the evidence shown is the latest.
    Removing a held position's stop is a violation at once: no grace makes that right.
    """

    grace_ms: int
    checks: Mapping[str, Check] = field(default_factory=lambda: CHECKS)
    open_since: dict[tuple[str, str], int] = field(default_factory=dict)  # (invariant, symbol) -> first seen
    last_seen: dict[tuple[str, str], int] = field(default_factory=dict)
    evidence: dict[tuple[str, str], str] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    previous: Snapshot | None = None

    def observe(self, snapshot: Snapshot) -> None:
        if self.previous is not None:
            for detail in protection_removed(self.previous, snapshot):
                self.violations.append(Violation("protection removed", snapshot.at_ms, snapshot.at_ms, detail))
        self.previous = snapshot
        seen = {(name, symbol): detail for name, check in self.checks.items() for symbol, detail in check(snapshot)}
        for key, detail in seen.items():
            self.open_since.setdefault(key, snapshot.at_ms)
            self.last_seen[key] = snapshot.at_ms
            self.evidence[key] = detail
        for key in [k for k in self.open_since if k not in seen]:
            self._close(key)

    def overdue(self) -> list[Violation]:
        """Conditions still open and, as of the last observation, already longer than the grace."""
        return [Violation(key[0], since, self.last_seen[key], self.evidence[key])
                for key, since in self.open_since.items() if self.last_seen[key] - since > self.grace_ms]

    def finish(self) -> list[Violation]:
        for key in list(self.open_since):
            self._close(key)
        return sorted(self.violations, key=lambda v: (v.since_ms, v.invariant))

    def _close(self, key: tuple[str, str]) -> None:
        since, until, detail = self.open_since.pop(key), self.last_seen.pop(key), self.evidence.pop(key)
        if until - since > self.grace_ms:
            self.violations.append(Violation(key[0], since, until, detail))


def first(violations: Iterable[Violation], invariant: str) -> Violation | None:
    return next((v for v in violations if v.invariant == invariant), None)
