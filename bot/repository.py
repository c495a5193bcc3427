"""The bot's SQLite repository: intents, positions, orders (by both ids) and an append-only journal.

Synchronous stdlib ``sqlite3`` on the loop thread, WAL for file databases. Each public write is
one transaction: a state change and its journal entry land together or not at all.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.clock import Clock
from bot.lifecycle import IntentState, check_transition
from bot.values import ClientOrderId, Intent, IntentId, PositionId, Role, Side, VenueClose, VenueOrderId

SCHEMA = """
CREATE TABLE IF NOT EXISTS intents (
    intent_id TEXT PRIMARY KEY,
    symbol TEXT NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL, stop_fraction TEXT NOT NULL,
    state TEXT NOT NULL,
    entry_order_id TEXT, filled_qty TEXT, avg_price TEXT, reason TEXT,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    position_id INTEGER PRIMARY KEY AUTOINCREMENT,
    intent_id TEXT UNIQUE REFERENCES intents(intent_id),
    symbol TEXT NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL, entry_price TEXT NOT NULL,
    stop_price TEXT, stop_client_id TEXT, stop_order_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    opened_ms INTEGER NOT NULL, closed_ms INTEGER, close_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_open_position_per_symbol ON positions(symbol) WHERE status = 'open';
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT UNIQUE, venue_order_id TEXT UNIQUE,
    intent_id TEXT, role TEXT NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL, qty TEXT NOT NULL,
    status TEXT NOT NULL, updated_ms INTEGER NOT NULL,
    CHECK (client_order_id IS NOT NULL OR venue_order_id IS NOT NULL)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL, intent_id TEXT, kind TEXT NOT NULL, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS venue_closes (
    symbol TEXT PRIMARY KEY, venue_ms INTEGER NOT NULL, side TEXT
);
CREATE TABLE IF NOT EXISTS flat_readings (
    symbol TEXT NOT NULL, read_ms INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event journal is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event journal is append-only'); END;
"""


EventSink = Callable[[str, "IntentId | None", dict[str, Any]], None]
"""Told of each journal entry as it is written (a trace, a log); it must not call back into the repository."""


@dataclass(frozen=True, slots=True)
class IntentRecord:
    intent: Intent
    state: IntentState
    entry_order_id: VenueOrderId | None
    filled_qty: Decimal | None
    avg_price: Decimal | None
    reason: str | None
    updated_ms: int


@dataclass(frozen=True, slots=True)
class PositionRecord:
    position_id: PositionId
    intent_id: IntentId | None  # None for a position adopted from the venue
    symbol: str
    side: Side
    qty: Decimal
    entry_price: Decimal
    stop_price: Decimal | None
    stop_client_id: ClientOrderId | None
    stop_order_id: VenueOrderId | None
    is_open: bool
    opened_ms: int
    close_reason: str | None


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    at_ms: int
    intent_id: IntentId | None
    kind: str
    data: dict[str, Any]


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class Repository:
    def __init__(self, connection: sqlite3.Connection, clock: Clock, on_event: EventSink | None = None) -> None:
        self._db = connection
        self._clock = clock
        self._depth = 0
        self._on_event = on_event

    @classmethod
    def open(cls, path: str, clock: Clock, on_event: EventSink | None = None) -> Repository:
        """Open (creating if needed) the database at ``path``; ``":memory:"`` for a throwaway one."""
        connection = sqlite3.connect(path, isolation_level=None)
        connection.row_factory = sqlite3.Row
        if path != ":memory:":
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.executescript(SCHEMA)
        columns = {row["name"] for row in connection.execute("PRAGMA table_info(venue_closes)")}
        if "side" not in columns:  # a database from before closes kept their side: its rows keep none
            connection.execute("ALTER TABLE venue_closes ADD COLUMN side TEXT")
        return cls(connection, clock, on_event)

    def close(self) -> None:
        self._db.close()

    @property
    def version(self) -> int:
        """Rows changed through this repository so far: equal versions, equal contents (this
        process is the database's only writer; see bot.lock), so a reader may cache by it."""
        return self._db.total_changes

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit; nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # ------------------------------------------------------------------ journal

    def journal(self, kind: str, intent_id: IntentId | None = None, **data: Any) -> None:
        payload = json.dumps(data, sort_keys=True, default=str)
        self._db.execute(
            "INSERT INTO events (at_ms, intent_id, kind, data) VALUES (?, ?, ?, ?)",
            (self._clock.now_ms(), intent_id, kind, payload),
        )
        if self._on_event is not None:
            # Told as written, before its transaction commits: an observer sees intent, not only outcome.
            self._on_event(kind, intent_id, json.loads(payload))

    def events(self, intent_id: IntentId | None = None) -> list[Event]:
        sql = "SELECT * FROM events ORDER BY seq"
        args: tuple[str, ...] = ()
        if intent_id is not None:
            sql, args = "SELECT * FROM events WHERE intent_id = ? ORDER BY seq", (intent_id,)
        return [
            Event(r["seq"], r["at_ms"], r["intent_id"], r["kind"], json.loads(r["data"]))
            for r in self._db.execute(sql, args)
        ]

    # ------------------------------------------------------------------ intents

    def add_intent(self, intent: Intent) -> IntentRecord:
        with self.transaction():
            self._db.execute(
                "INSERT INTO intents (intent_id, symbol, side, qty, stop_fraction, state, created_ms, updated_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (intent.intent_id, intent.symbol, intent.side.value, str(intent.qty), str(intent.stop_fraction),
                 IntentState.NEW.value, intent.created_ms, self._clock.now_ms()),
            )
            self.journal("intent.new", intent.intent_id, symbol=intent.symbol, side=intent.side.value, qty=intent.qty)
        return self.intent(intent.intent_id)

    def intent(self, intent_id: IntentId) -> IntentRecord:
        row = self._db.execute("SELECT * FROM intents WHERE intent_id = ?", (intent_id,)).fetchone()
        if row is None:
            raise KeyError(f"no intent {intent_id!r} in the database")
        return self._intent_record(row)

    def has_intent(self, intent_id: IntentId) -> bool:
        return self._db.execute("SELECT 1 FROM intents WHERE intent_id = ?", (intent_id,)).fetchone() is not None

    def intents(self) -> list[IntentRecord]:
        return [self._intent_record(r) for r in self._db.execute("SELECT * FROM intents ORDER BY created_ms, intent_id")]

    def unfinished(self) -> list[IntentRecord]:
        return [r for r in self.intents() if not r.state.is_final]

    def transition(
        self,
        intent_id: IntentId,
        target: IntentState,
        *,
        reason: str | None = None,
        entry_order_id: VenueOrderId | None = None,
        filled_qty: Decimal | None = None,
        avg_price: Decimal | None = None,
        **details: Any,
    ) -> IntentRecord:
        """Move an intent to ``target`` (checked against the transition table) and journal it."""
        with self.transaction():
            current = self.intent(intent_id)
            check_transition(current.state, target)
            self._db.execute(
                "UPDATE intents SET state = ?, updated_ms = ?,"
                " reason = COALESCE(?, reason), entry_order_id = COALESCE(?, entry_order_id),"
                " filled_qty = COALESCE(?, filled_qty), avg_price = COALESCE(?, avg_price)"
                " WHERE intent_id = ?",
                (target.value, self._clock.now_ms(), reason, entry_order_id, _text(filled_qty), _text(avg_price),
                 intent_id),
            )
            self.journal(
                f"intent.{target.value}", intent_id, **{"from": current.state.value}, reason=reason,
                entry_order_id=entry_order_id, filled_qty=filled_qty, avg_price=avg_price, **details,
            )
        return self.intent(intent_id)

    @staticmethod
    def _intent_record(row: sqlite3.Row) -> IntentRecord:
        intent = Intent(
            intent_id=IntentId(row["intent_id"]), symbol=row["symbol"], side=Side(row["side"]),
            qty=Decimal(row["qty"]), stop_fraction=Decimal(row["stop_fraction"]), created_ms=row["created_ms"],
        )
        return IntentRecord(
            intent=intent, state=IntentState(row["state"]),
            entry_order_id=VenueOrderId(row["entry_order_id"]) if row["entry_order_id"] else None,
            filled_qty=_dec(row["filled_qty"]), avg_price=_dec(row["avg_price"]), reason=row["reason"],
            updated_ms=row["updated_ms"],
        )

    # ------------------------------------------------------------------ orders

    def record_order(
        self, *, role: Role, symbol: str, side: str, qty: Decimal, client_order_id: ClientOrderId | None,
        intent_id: IntentId | None = None, venue_order_id: VenueOrderId | None = None, status: str = "sending",
    ) -> None:
        """Record an order before it is sent (by client id), or once a venue id is known; idempotent."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO orders (client_order_id, venue_order_id, intent_id, role, symbol, side, qty, status,"
                " updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (client_order_id) DO UPDATE SET venue_order_id = COALESCE(excluded.venue_order_id,"
                " venue_order_id), status = excluded.status, updated_ms = excluded.updated_ms",
                (client_order_id, venue_order_id, intent_id, role.value, symbol, side, str(qty), status,
                 self._clock.now_ms()),
            )
            self.journal("order." + status, intent_id, role=role.value, client_order_id=client_order_id,
                         venue_order_id=venue_order_id, symbol=symbol, side=side, qty=qty)

    def order_ids(self, client_order_id: ClientOrderId) -> tuple[VenueOrderId | None, str] | None:
        row = self._db.execute(
            "SELECT venue_order_id, status FROM orders WHERE client_order_id = ?", (client_order_id,)
        ).fetchone()
        return None if row is None else (row["venue_order_id"], row["status"])

    def has_orders_named(self, prefix: str) -> bool:
        """Whether any order's client id starts with ``prefix``."""
        row = self._db.execute("SELECT 1 FROM orders WHERE substr(client_order_id, 1, ?) = ? LIMIT 1",
                               (len(prefix), prefix)).fetchone()
        return row is not None

    def unused_client_id(self, base: str) -> ClientOrderId:
        """``base`` + the smallest n >= 1 no order in the database has: a venue may refuse a reused id."""
        rows = self._db.execute("SELECT client_order_id FROM orders WHERE substr(client_order_id, 1, ?) = ?",
                                (len(base), base))
        used = {r[0] for r in rows}
        n = 1
        while f"{base}{n}" in used:
            n += 1
        return ClientOrderId(f"{base}{n}")

    def closes_named(self, base: str) -> list[ClientOrderId]:
        """Client ids of the close orders named ``base``..., sent or being sent (an answer a restart cut
        short leaves one 'sending'), oldest first."""
        rows = self._db.execute(
            "SELECT client_order_id FROM orders WHERE role = ? AND substr(client_order_id, 1, ?) = ?"
            " AND status IN ('sending', 'sent') ORDER BY rowid", (Role.CLOSE.value, len(base), base))
        return [ClientOrderId(r[0]) for r in rows]

    def order_by_venue_id(self, venue_order_id: VenueOrderId) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM orders WHERE venue_order_id = ?", (venue_order_id,)).fetchone()
        return None if row is None else dict(row)

    # ------------------------------------------------------------------ positions

    def open_position(
        self, *, symbol: str, side: Side, qty: Decimal, entry_price: Decimal, intent_id: IntentId | None,
        reason: str,
    ) -> PositionRecord:
        with self.transaction():
            cursor = self._db.execute(
                "INSERT INTO positions (intent_id, symbol, side, qty, entry_price, status, opened_ms)"
                " VALUES (?, ?, ?, ?, ?, 'open', ?)",
                (intent_id, symbol, side.value, str(qty), str(entry_price), self._clock.now_ms()),
            )
            position_id = PositionId(int(cursor.lastrowid or 0))
            self.journal("position.open", intent_id, position_id=position_id, symbol=symbol, side=side.value,
                         qty=qty, entry_price=entry_price, reason=reason)
        return self.position(position_id)

    def assign_stop(self, position_id: PositionId, *, price: Decimal, client_order_id: ClientOrderId) -> None:
        """Name the stop about to be placed, before it is sent, so a resumed run looks it up instead of doubling it."""
        with self.transaction():
            self._db.execute(
                "UPDATE positions SET stop_price = ?, stop_client_id = ?, stop_order_id = NULL WHERE position_id = ?",
                (str(price), client_order_id, position_id),
            )
            record = self.position(position_id)
            self.journal("position.stop_assigned", record.intent_id, position_id=position_id, stop_price=price,
                         client_order_id=client_order_id)

    def claim_position(
        self, position_id: PositionId, intent_id: IntentId, *, qty: Decimal, entry_price: Decimal
    ) -> PositionRecord:
        """Hand a position the synchronizer adopted to the intent whose fill it was."""
        with self.transaction():
            self._db.execute(
                "UPDATE positions SET intent_id = ?, qty = ?, entry_price = ? WHERE position_id = ? AND intent_id IS NULL",
                (intent_id, str(qty), str(entry_price), position_id),
            )
            record = self.position(position_id)
            if record.intent_id != intent_id:
                raise AssertionError(f"position {position_id} belongs to intent {record.intent_id}, not {intent_id}")
            self.journal("position.claimed", intent_id, position_id=position_id, qty=qty, entry_price=entry_price)
        return record

    def set_stop(
        self, position_id: PositionId, *, price: Decimal | None, client_order_id: ClientOrderId | None,
        venue_order_id: VenueOrderId,
    ) -> PositionRecord:
        with self.transaction():
            self._db.execute(
                "UPDATE positions SET stop_price = ?, stop_client_id = ?, stop_order_id = ? WHERE position_id = ?",
                (_text(price), client_order_id, venue_order_id, position_id),
            )
            record = self.position(position_id)
            self.journal("position.protected", record.intent_id, position_id=position_id, stop_price=price,
                         stop_order_id=venue_order_id)
        return record

    def resize(self, position_id: PositionId, qty: Decimal, *, reason: str) -> PositionRecord:
        with self.transaction():
            self._db.execute("UPDATE positions SET qty = ? WHERE position_id = ?", (str(qty), position_id))
            record = self.position(position_id)
            self.journal("position.resized", record.intent_id, position_id=position_id, qty=qty, reason=reason)
        return record

    def close_position(self, position_id: PositionId, *, reason: str) -> PositionRecord:
        with self.transaction():
            closed = self._db.execute(
                "UPDATE positions SET status = 'closed', closed_ms = ?, close_reason = ?"
                " WHERE position_id = ? AND status = 'open'",
                (self._clock.now_ms(), reason, position_id),
            ).rowcount
            record = self.position(position_id)
            if closed:  # a position closed already (by a pass that ran alongside) keeps its first close
                self.journal("position.closed", record.intent_id, position_id=position_id, reason=reason)
        return record

    def position(self, position_id: PositionId) -> PositionRecord:
        row = self._db.execute("SELECT * FROM positions WHERE position_id = ?", (position_id,)).fetchone()
        if row is None:
            raise KeyError(f"no position {position_id} in the database")
        return self._position_record(row)

    def position_for_intent(self, intent_id: IntentId) -> PositionRecord | None:
        row = self._db.execute("SELECT * FROM positions WHERE intent_id = ?", (intent_id,)).fetchone()
        return None if row is None else self._position_record(row)

    def open_position_on(self, symbol: str) -> PositionRecord | None:
        row = self._db.execute("SELECT * FROM positions WHERE symbol = ? AND status = 'open'", (symbol,)).fetchone()
        return None if row is None else self._position_record(row)

    def open_positions(self) -> list[PositionRecord]:
        rows = self._db.execute("SELECT * FROM positions WHERE status = 'open' ORDER BY position_id")
        return [self._position_record(r) for r in rows]

    # ------------------------------------------------------------------ venue readings

    def flat_readings(self) -> dict[str, list[int]]:
        """When consecutive venue readings showed each symbol flat, oldest first. Kept here so that a
        restart does not throw the evidence away and start the synchronizer's settle time over."""
        readings: dict[str, list[int]] = {}
        for row in self._db.execute("SELECT symbol, read_ms FROM flat_readings ORDER BY symbol, read_ms"):
            readings.setdefault(row["symbol"], []).append(row["read_ms"])
        return readings

    def set_flat_readings(self, readings: Mapping[str, Sequence[int]]) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM flat_readings")
            self._db.executemany("INSERT INTO flat_readings (symbol, read_ms) VALUES (?, ?)",
                                 [(symbol, read_ms) for symbol, times in readings.items() for read_ms in times])

    def note_venue_close(self, symbol: str, venue_ms: int, side: Side | None) -> None:
        """The venue time by which a close of the bot's took ``side`` off ``symbol`` (None: a fill, which
        moved the position whatever its side). The latest is kept."""
        self._db.execute("INSERT INTO venue_closes (symbol, venue_ms, side) VALUES (?, ?, ?) ON CONFLICT(symbol) "
                         "DO UPDATE SET side = CASE WHEN excluded.venue_ms >= venue_ms THEN excluded.side ELSE side END, "
                         "venue_ms = max(venue_ms, excluded.venue_ms)", (symbol, venue_ms, side.value if side else None))

    def venue_closes(self) -> dict[str, VenueClose]:
        return {row["symbol"]: VenueClose(row["venue_ms"], Side(row["side"]) if row["side"] else None)
                for row in self._db.execute("SELECT symbol, venue_ms, side FROM venue_closes")}

    def positions(self) -> list[PositionRecord]:
        return [self._position_record(r) for r in self._db.execute("SELECT * FROM positions ORDER BY position_id")]

    @staticmethod
    def _position_record(row: sqlite3.Row) -> PositionRecord:
        return PositionRecord(
            position_id=PositionId(row["position_id"]),
            intent_id=IntentId(row["intent_id"]) if row["intent_id"] else None,
            symbol=row["symbol"], side=Side(row["side"]), qty=Decimal(row["qty"]),
            entry_price=Decimal(row["entry_price"]), stop_price=_dec(row["stop_price"]),
            stop_client_id=ClientOrderId(row["stop_client_id"]) if row["stop_client_id"] else None,
            stop_order_id=VenueOrderId(row["stop_order_id"]) if row["stop_order_id"] else None,
            is_open=row["status"] == "open", opened_ms=row["opened_ms"], close_reason=row["close_reason"],
        )
