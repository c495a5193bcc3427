"""THE KNOWN-BAD SUBJECT: the GIGAUSDT incident's flow, reproduced on purpose. A test subject, not product code.

It does what the forensic report (../shared/incidents/gigausdt-forensic-report.md) shows the
production bot doing, through unmodified ccxt:

1. pre-register the position in its database (state ``entry_placed``) and watch position pushes;
2. ``create_order`` a market order (Bybit answers with ids only);
3. ``fetch_order`` up to 5 times, 0.5 s apart growing x1.5; an error mentioning "500" is read as
   Bybit's "500 order limit", a cache fallback misses, and the attempt "returns None";
4. fall back to the create answer and normalise it, which demands ``side`` and raises;
5. roll the database record back, leaving the venue position open and unprotected;
6. a synchronizer pass, run minutes later, adds the venue position it finds "missing", without a stop.

The harness must catch this subject with a phantom-position violation.
"""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from simulator.server import RunningBinance, RunningVenue
from virtualtime.trace import NO_TRACE, Recorder

ACTOR = "seed-flow"
FETCH_ATTEMPTS = 5
FETCH_DELAY_S = 0.5
FETCH_BACKOFF = 1.5
LINEAR_ONLY = {"fetchCurrencies": False, "fetchMarkets": {"types": ["linear"]}, "defaultType": "swap"}


class KnownBadBot:
    name = "seed-flow"

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._rest: Any = None
        self._pro: Any = None
        self._watch: asyncio.Task[None] | None = None
        self._trace: Recorder = NO_TRACE
        self._order_cache: dict[str, dict[str, Any]] = {}
        self._venue: Any = None
        self._workdir = Path(".")

    async def start(self, venue: RunningVenue | RunningBinance, workdir: Path, trace: Recorder) -> None:
        self._venue, self._workdir = venue, workdir
        self._trace = trace
        self._db = sqlite3.connect(workdir / "known_bad.sqlite3", isolation_level=None)
        self._db.execute("CREATE TABLE IF NOT EXISTS positions (symbol TEXT PRIMARY KEY, side TEXT, qty TEXT,"
                         " state TEXT, order_id TEXT)")
        # Linear markets only, as a USDT-perpetual bot loads them: the flaw is not in the catalogue, and
        # loading every market type would cost each fuzzed example a thousand rate-limiter waits.
        self._rest = venue.rest_client(options=LINEAR_ONLY)
        await self._rest.load_markets()
        if isinstance(venue, RunningVenue):  # the incident's WebSocket tracking (Binance streams: not yet)
            self._pro = venue.pro_client()
            self._pro.markets, self._pro.markets_by_id = self._rest.markets, self._rest.markets_by_id
            self._watch = asyncio.ensure_future(self._watch_positions())
            try:  # a venue that drops the auth reply never lets it subscribe: carry on without pushes
                await asyncio.wait_for(venue.venue.streams.wait_subscribed("position"), 30)
            except TimeoutError:
                self._trace.record(ACTOR, "stream.not_subscribed")

    async def _watch_positions(self) -> None:
        while True:
            for p in await self._pro.watch_positions():
                self._trace.record(ACTOR, "ws.position", symbol=p["symbol"], size=p["contracts"], side=p["side"])

    async def open(self, symbol: str, side: str, qty: Decimal) -> bool:
        db = self._require_db()
        order_side = "buy" if side == "long" else "sell"
        db.execute("BEGIN")
        db.execute("INSERT INTO positions VALUES (?, ?, ?, 'entry_placed', NULL)", (symbol, side, str(qty)))
        self._trace.record(ACTOR, "pre-registered", symbol=symbol)
        try:
            created = await self._rest.create_order(symbol, "market", order_side, float(qty))
            self._trace.record(ACTOR, "order.created", id=created["id"], side=created["side"], status=created["status"])
            raw_order = await self._fetch_with_retries(created["id"], symbol)
            if raw_order is None:
                self._trace.record(ACTOR, "fetch_order.exhausted", attempts=FETCH_ATTEMPTS,
                                   note="will use the create_order response (may be incomplete)")
                raw_order = created
            order = self._normalize(raw_order)
            db.execute("UPDATE positions SET state = 'open', order_id = ? WHERE symbol = ?", (order["id"], symbol))
            db.execute("COMMIT")
            return True
        except Exception as error:
            db.execute("ROLLBACK")  # the record goes; the position on the venue does not
            self._trace.record(ACTOR, "rolled back", symbol=symbol, error=str(error))
            raise

    async def _fetch_with_retries(self, order_id: str, symbol: str) -> dict[str, Any] | None:
        delay = FETCH_DELAY_S
        for attempt in range(1, FETCH_ATTEMPTS + 1):
            if attempt > 1:
                await asyncio.sleep(delay)
                delay *= FETCH_BACKOFF
            try:
                return await self._rest.fetch_order(order_id, symbol)
            except Exception as error:  # noqa: BLE001 - the incident's handler, as it was
                if "500" in str(error):
                    self._trace.record(ACTOR, "fetch_order.500-limit", attempt=attempt, id=order_id,
                                       cache_hit=order_id in self._order_cache)
                    cached = self._order_cache.get(order_id)
                    if cached is not None:
                        return cached
                else:
                    self._trace.record(ACTOR, "fetch_order.error", attempt=attempt, error=str(error)[:80])
        return None

    @staticmethod
    def _normalize(order: dict[str, Any]) -> dict[str, Any]:
        if not order.get("side"):
            raise ValueError(f"Order {order.get('id')} missing 'side' field; minimal response detected")
        return order

    async def sync_pass(self) -> None:
        db = self._require_db()
        held = {row[0] for row in db.execute("SELECT symbol FROM positions")}
        for p in await self._rest.fetch_positions():
            if p["contracts"] and p["symbol"] not in held:
                db.execute("INSERT INTO positions VALUES (?, ?, ?, 'open', NULL)",
                           (p["symbol"], p["side"], str(p["contracts"])))
                self._trace.record(ACTOR, "sync.added-missing", symbol=p["symbol"], size=p["contracts"])

    async def close_position(self, symbol: str) -> bool:
        db = self._require_db()
        row = db.execute("SELECT side, qty FROM positions WHERE symbol = ? AND state = 'open'", (symbol,)).fetchone()
        if row is None:
            return False
        await self._rest.create_order(symbol, "market", "sell" if row[0] == "long" else "buy", float(row[1]), None,
                                      {"reduceOnly": True})
        db.execute("DELETE FROM positions WHERE symbol = ?", (symbol,))
        return True

    async def restart(self) -> None:
        await self.close()
        await self.start(self._venue, self._workdir, self._trace)

    def pending_symbols(self) -> frozenset[str]:
        return frozenset()  # it records nothing between pre-registration and commit that survives a rollback

    def db_positions(self) -> list[tuple[str, str, Decimal]]:
        rows = self._require_db().execute("SELECT symbol, side, qty FROM positions WHERE state = 'open'")
        return [(symbol, side, Decimal(qty)) for symbol, side, qty in rows]

    async def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        if self._db is not None:
            self._db.close()
            self._db = None

    def _require_db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the known-bad subject was not started")
        return self._db
