"""The position synchronizer: read the venue, ``reconcile``, apply the actions; on startup and on an interval.

Applying an action is the only impure part. A failed action is journalled and left to the next
cycle, which re-reads the venue, so a cycle never acts on what it merely assumes.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping

from bot.clock import Clock
from bot.errors import BotError, Halt, ProtectionFailed, Rejected, RetryLater, Throttled
from bot.opener import PositionOpener, token
from bot.policy import Policy
from bot.protect import ensure_stop, find_by_client_id
from bot.reconcile import (
    Action,
    Adopt,
    CancelStop,
    CloseOut,
    PlaceStop,
    RecordStop,
    Resize,
    SyncRules,
    reconcile,
    stopped_out,
)
from bot.repository import PositionRecord, Repository
from bot.values import ClientOrderId, OrderReport, OrderStatus, PositionId, VenueOrderId
from bot.venue import Venue

log = logging.getLogger("bot.synchronizer")
MAX_READINGS = 10


def filled_stop(venue: Venue, position: PositionRecord) -> OrderReport | None:
    """The position's own stop, when the venue pushed it filled for the position's whole size."""
    report = venue.pushed(position.stop_order_id, position.stop_client_id)
    return report if took_all(report, position) else None


def took_all(report: OrderReport | None, position: PositionRecord) -> bool:
    """Whether ``report`` (of the position's stop) shows it filled, reduce-only, for the whole size."""
    return report is not None and report.status is OrderStatus.CLOSED and report.reduce_only \
        and report.filled >= position.qty


class Synchronizer:
    def __init__(
        self, venue: Venue, repo: Repository, opener: PositionOpener, *, rules: SyncRules, clock: Clock,
        rng: random.Random, policy: Policy | None = None,
    ) -> None:
        self.venue = venue
        self.repo = repo
        self.opener = opener
        self.rules = rules
        self.clock = clock
        self.rng = rng
        self.policy = policy or Policy()
        # When consecutive venue readings showed each symbol flat, newest last; the database keeps
        # them across restarts (a crash loop must not reset the settle time at every start).
        self.flat_readings: dict[str, list[int]] = repo.flat_readings()
        # Per open position, a stop of its whose fate a query could not read (in memory: a restart
        # asks only about the recorded stops), and the stops whose last query failed.
        self._unresolved: dict[PositionId, VenueOrderId] = {}
        self._unanswered: set[VenueOrderId] = set()
        self._closes_settled: set[ClientOrderId] = set()  # close orders found done: not asked again

    async def plan(self) -> list[Action]:
        """What one cycle would do now: reads the venue and changes nothing on it nor in the database
        (a stop whose fate could not be read is journalled)."""
        read_at = self.clock.now_ms()
        positions = await self.venue.positions()
        stops = await self.venue.open_stops()
        open_ids = {s.venue_order_id for s in stops}
        busy = self._busy()
        known = [p for p in self.repo.open_positions() if p.symbol not in busy]  # the opener's are left to it
        pairs = self._stops_to_ask(known, self._pushed_fills(known))
        asked = await self._stop_evidence([(p, stop_id) for p, stop_id in pairs if stop_id not in open_ids])
        # The database is read after the venue (its stop queries too): an intent that started or
        # filled during the reads is then either busy (left to the opener) or already holds its position.
        busy = self._busy()
        local = self.repo.open_positions()
        still_open = {p.position_id for p in local}
        self._unresolved = {pid: stop for pid, stop in self._unresolved.items() if pid in still_open}
        held = {p.symbol for p in positions if p.size > 0}
        watched = {p.symbol for p in local} | {s.symbol for s in stops}
        self.flat_readings = {symbol: [*self.flat_readings.get(symbol, [])[-(MAX_READINGS - 1):], read_at]
                              for symbol in watched - held}
        filled = self._pushed_fills(local) | {p.position_id: asked[p.position_id] for p in local
                                              if p.position_id in asked and p.symbol not in busy}
        closed = await self._close_evidence([p for p in local if p.position_id not in filled and p.symbol not in busy
                                             and p.symbol not in held])
        return reconcile(local, busy, positions, stops, self.clock.now_ms(), self.rules, self.flat_readings,
                         self.repo.venue_closes(), filled, closed)

    async def _close_evidence(self, local: list[PositionRecord]) -> dict[PositionId, OrderReport]:
        """The positions the list shows flat that a close of theirs (named by the position: no other
        position's close can count) filled for their whole size: a close whose outcome the bot never
        recorded (a restart cut the close short; found by the fuzzer, Binance seed 110). One flat
        reading then closes the position out, as a stop's fill does, instead of two an interval apart.
        A close found done without filling it is not asked about again; a failed query ends the asking
        (the venue is unwell or limiting our rate): the readings decide, as before."""
        found: dict[PositionId, OrderReport] = {}
        for position in local:
            for client_id in self.repo.closes_named(self.opener.close_base(position)):
                if client_id in self._closes_settled:
                    continue
                try:
                    report = await find_by_client_id(self.venue, position.symbol, client_id)
                except Halt:
                    raise
                except BotError:
                    return found
                if report is not None and report.status.is_final:
                    self._closes_settled.add(client_id)
                if took_all(report, position):
                    assert report is not None
                    found[position.position_id] = report
                    break
        return found

    def _pushed_fills(self, local: list[PositionRecord]) -> dict[PositionId, OrderReport]:
        """The positions whose stop (the recorded one, or one whose fate is still unread) was pushed
        filled for the whole size."""
        found = {p.position_id: report for p in local if (report := filled_stop(self.venue, p))}
        for position in local:
            old = self._unresolved.get(position.position_id)
            if position.position_id not in found and old is not None \
                    and took_all(report := self.venue.pushed(old, None), position):
                assert report is not None
                found[position.position_id] = report
        return found

    def _busy(self) -> frozenset[str]:
        """The symbols with an unfinished intent: the opener's, not the synchronizer's."""
        return frozenset(r.intent.symbol for r in self.repo.unfinished())

    def _stops_to_ask(self, local: list[PositionRecord], pushed: Mapping[PositionId, OrderReport]
                      ) -> list[tuple[PositionRecord, VenueOrderId]]:
        """(position, stop id) pairs to ask the venue about: each recorded stop with no push of its fill
        (``pushed``), and each earlier stop of a position whose fate a query could not read (a pass may
        have put a new stop on since: the old one's fill must not be lost with one failed read). Those
        that went unanswered last time come last, so one failing symbol never starves the others."""
        pairs = [(p, p.stop_order_id) for p in local if p.stop_order_id is not None and p.position_id not in pushed]
        pairs += [(p, old) for p in local if p.position_id not in pushed
                  and (old := self._unresolved.get(p.position_id)) is not None and old != p.stop_order_id]
        self._unanswered &= {stop for _, stop in pairs}
        return sorted(pairs, key=lambda pair: pair[1] in self._unanswered)

    async def _stop_evidence(self, pairs: list[tuple[PositionRecord, VenueOrderId]]) -> dict[PositionId, OrderReport]:
        """The positions whose stop (of ``pairs``) the venue says filled for the whole size: the same
        evidence as a push, for when the push never came (a dropped stream, a restart; found by the
        fuzzer, Binance seed 59). A refused query (a symbol delisted since) only leaves that evidence
        out. A failed one ends the asking: the venue is unwell or limiting our rate, and more queries
        would only add to that (and each could wait out a timeout). What went unasked or unanswered is
        asked again next pass, until the venue answers or the position is closed."""
        found: dict[PositionId, OrderReport] = {}
        for index, (position, stop_id) in enumerate(pairs):
            try:
                report = await self.venue.stop_outcome(position.symbol, stop_id)
            except Halt:
                raise
            except BotError as error:
                self.repo.journal("sync.stop_unread", position.intent_id, position_id=position.position_id,
                                  venue_order_id=stop_id, error=f"{type(error).__name__}: {error}")
                if isinstance(error, RetryLater):
                    self._unanswered.add(stop_id)
                    for later, later_stop in pairs[index:]:
                        self._unresolved.setdefault(later.position_id, later_stop)
                    break
                continue
            self._unanswered.discard(stop_id)
            if self._unresolved.get(position.position_id) == stop_id:
                del self._unresolved[position.position_id]
            if took_all(report, position):
                assert report is not None
                found[position.position_id] = report
        return found

    async def cycle(self) -> list[Action]:
        """One reconcile-and-apply pass; returns the actions it found (applied or journalled as failed)."""
        started_ms = self.clock.now_ms()  # the pass's own instant: its reads take time, paced by ccxt
        before = self.flat_readings
        try:
            actions = await self.plan()
        except RetryLater as error:
            # The reads failed, but a stop the venue pushed filled for its position's whole size
            # needs none of them: waiting for a pass that reads would leave the database ahead of
            # the venue as long as the reads keep failing (found by the fuzzer, Bybit seed 58).
            # Rate limited, it asks the venue nothing more.
            await self._close_stopped_out(started_ms, ask=not isinstance(error, Throttled))
            raise
        if self.flat_readings != before:
            self.repo.set_flat_readings(self.flat_readings)
        self.repo.journal("sync.cycle", started_ms=started_ms, actions=[repr(a) for a in actions])
        unprotected: set[str] = set()  # symbols whose new stop failed: their old stops stay on
        for action in actions:
            if isinstance(action, CancelStop) and action.symbol in unprotected:
                self.repo.journal("sync.action_skipped", action=repr(action), why="its replacement stop failed")
                continue
            try:
                await self._apply(action)
            except Halt:
                raise
            except Exception as error:  # noqa: BLE001 - one action's failure must not skip the others
                if isinstance(action, PlaceStop):
                    unprotected.add(action.symbol)
                self.repo.journal("sync.action_failed", action=repr(action), error=f"{type(error).__name__}: {error}")
                log.warning("sync action %r failed, next cycle re-reads the venue: %r", action, error)
        return actions

    async def _close_stopped_out(self, started_ms: int, *, ask: bool) -> None:
        """For a pass whose reads failed: close out what a stop's fill proves gone. The push, or else
        (``ask``) the venue's word on the recorded stop: the push can be lost with the stream, as when
        the venue restarts (found by the fuzzer, Binance seed 63)."""
        busy = self._busy()
        local = [p for p in self.repo.open_positions() if p.symbol not in busy]
        filled = self._pushed_fills(local)
        if ask:
            filled |= await self._stop_evidence(self._stops_to_ask(local, filled))
        # Its queries took time: a pass alongside may have closed some meanwhile.
        still_open = {p.position_id for p in self.repo.open_positions()}
        closes = [c for c in stopped_out(local, busy, filled, self.clock.now_ms()) if c.position_id in still_open]
        if not closes:
            return
        self.repo.journal("sync.stopped_out", started_ms=started_ms, actions=[repr(a) for a in closes])
        for close in closes:
            await self._apply(close)

    async def converge(self, max_cycles: int = 4) -> int:
        """Cycle until a pass finds nothing to do; returns how many passes acted. Raises if it never settles."""
        for done in range(max_cycles):
            if not await self.cycle():
                return done
        raise ProtectionFailed(f"the venue and the database still differ after {max_cycles} sync cycles")

    async def _apply(self, action: Action) -> None:
        repo = self.repo
        if isinstance(action, CloseOut):
            with repo.transaction():
                closed = repo.close_position(action.position_id, reason=f"sync: {action.reason}")
                if action.venue_close is not None:
                    repo.note_venue_close(closed.symbol, action.venue_close.venue_ms, action.venue_close.side)
        elif isinstance(action, Adopt):
            with repo.transaction():
                adopted = repo.open_position(symbol=action.symbol, side=action.side, qty=action.size,
                                             entry_price=action.entry_price, intent_id=None,
                                             reason="sync: adopted a venue position the database lacked")
                if action.stop is not None:
                    repo.set_stop(adopted.position_id, price=action.stop.trigger_price,
                                  client_order_id=action.stop.client_order_id,
                                  venue_order_id=action.stop.venue_order_id)
        elif isinstance(action, Resize):
            repo.resize(action.position_id, action.size, reason="sync: the venue holds another size")
        elif isinstance(action, RecordStop):
            repo.set_stop(action.position_id, price=action.trigger, client_order_id=action.client_order_id,
                          venue_order_id=action.venue_order_id)
        elif isinstance(action, CancelStop):
            was_open = await self.venue.cancel(action.symbol, action.venue_order_id, stop=True)
            repo.journal("sync.stop_cancelled", symbol=action.symbol, venue_order_id=action.venue_order_id,
                         reason=action.reason, was_open=was_open)
        elif isinstance(action, PlaceStop):
            await self._place_stop(action)
        else:
            raise AssertionError(f"no way to apply {action!r}")

    async def _place_stop(self, action: PlaceStop) -> None:
        position = self.repo.open_position_on(action.symbol)
        if position is None:
            raise AssertionError(f"{action!r} for a symbol with no open position in the database")
        client_id = ClientOrderId(f"{self.rules.client_prefix}{token(self.rng)}-s")
        while self.repo.order_ids(client_id) is not None:  # a seeded RNG replays its ids after a restart
            client_id = ClientOrderId(f"{self.rules.client_prefix}{token(self.rng)}-s")
        try:
            trigger = await self.venue.stop_trigger(action.symbol, action.side, action.trigger)
            self.repo.assign_stop(position.position_id, price=trigger, client_order_id=client_id)
            stop = await ensure_stop(self.venue, self.repo, symbol=action.symbol, side=action.side, qty=action.size,
                                     trigger=trigger, client_id=client_id, intent_id=position.intent_id,
                                     policy=self.policy)
        except (ProtectionFailed, Rejected) as error:
            # The same rule as the opener's: a position that cannot be protected is closed.
            self.repo.journal("sync.unprotectable", position.intent_id, position_id=position.position_id,
                              error=str(error))
            await self.opener.close(position.position_id, reason=f"sync: no stop could be placed ({error})")
            return
        self.repo.set_stop(position.position_id, price=trigger, client_order_id=client_id,
                           venue_order_id=stop.venue_order_id)
