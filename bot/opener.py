"""Opening a position as an explicit state machine: intent, entry, confirmation, protection, or rollback.

Each step persists its state (``bot.lifecycle``) before the next venue call, so a crash at any
point leaves a database from which ``resume`` carries on without doubling the entry: the entry's
client order id is derived from the intent, and an entry whose outcome is unknown is resolved
from venue evidence (``bot.confirm``), never assumed to have failed.
"""

from __future__ import annotations

import logging
import random
from decimal import Decimal

from bot.clock import Clock
from bot.confirm import Filled, NotFilled, Outcome, confirm_entry
from bot.errors import BotError, Halt, OutcomeUnknown, ProtectionFailed, Rejected, RetryLater
from bot.lifecycle import IntentState
from bot.policy import Policy
from bot.protect import cancel_stop, ensure_stop, flatten
from bot.repository import IntentRecord, PositionRecord, Repository
from bot.retry import retrying
from bot.values import Ack, ClientOrderId, Intent, IntentId, PositionId, Role, Side
from bot.venue import Venue

log = logging.getLogger("bot.opener")
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def token(rng: random.Random, length: int = 10) -> str:
    """A short random id from the injected RNG (the same seed names the same intents)."""
    return "".join(rng.choice(_ALPHABET) for _ in range(length))


class NotFlat(BotError):
    """The symbol already has exposure (in the database or on the venue): the opener enters flat symbols only."""


class PositionOpener:
    def __init__(
        self, venue: Venue, repo: Repository, *, clock: Clock, rng: random.Random, policy: Policy | None = None,
        prefix: str = "hb",
    ) -> None:
        self.venue = venue
        self.repo = repo
        self.clock = clock
        self.rng = rng
        self.policy = policy or Policy()
        self.prefix = prefix
        self._driving: set[IntentId] = set()  # intents a call in this process is advancing now

    # ------------------------------------------------------------------ entry points

    def new_intent(self, symbol: str, side: Side, qty: Decimal, stop_fraction: Decimal) -> Intent:
        if qty <= 0 or not 0 < stop_fraction < 1:
            raise ValueError(f"an intent needs qty > 0 and 0 < stop_fraction < 1, got qty={qty} stop={stop_fraction}")
        intent_id = IntentId(f"{self.prefix}{token(self.rng)}")
        # A seeded RNG replays its ids after a restart, and the synchronizer names stops from the
        # same RNG: an id is fresh only if no intent and no order of ours carries it.
        while self.repo.has_intent(intent_id) or self.repo.has_orders_named(f"{intent_id}-"):
            intent_id = IntentId(f"{self.prefix}{token(self.rng)}")
        intent = Intent(intent_id=intent_id, symbol=symbol, side=side, qty=qty, stop_fraction=stop_fraction,
                        created_ms=self.clock.now_ms())
        self.repo.add_intent(intent)
        return intent

    async def open(self, symbol: str, side: Side, qty: Decimal, stop_fraction: Decimal) -> IntentRecord:
        """Record an intent and drive it as far as the venue lets: ``OPEN``, a failure state, or an error."""
        return await self.drive(self.new_intent(symbol, side, qty, stop_fraction).intent_id)

    async def resume(self) -> list[IntentRecord]:
        """Drive every unfinished intent in the database (after a restart, or on each supervisor cycle)."""
        done = []
        for record in self.repo.unfinished():
            if record.intent.intent_id in self._driving:
                continue  # another call in this process is driving it right now
            try:
                done.append(await self.drive(record.intent.intent_id))
            except Halt:
                raise
            except Exception as error:  # noqa: BLE001 - one intent's failure must not block the others
                # Still unfinished: the state in the database says where to pick up next time.
                self.repo.journal("intent.deferred", record.intent.intent_id, error=str(error))
                log.warning("intent %s deferred: %s", record.intent.intent_id, error)
        return done

    async def drive(self, intent_id: IntentId) -> IntentRecord:
        """Advance one intent until it is final; raises when the venue cannot tell yet (state kept)."""
        if intent_id in self._driving:
            raise RetryLater(f"intent {intent_id} is already being driven in this process")
        self._driving.add(intent_id)
        try:
            return await self._drive(intent_id)
        finally:
            self._driving.discard(intent_id)

    async def _drive(self, intent_id: IntentId) -> IntentRecord:
        ack: Ack | None = None
        while not (record := self.repo.intent(intent_id)).state.is_final:
            state = record.state
            if state is IntentState.NEW and self._expired(record):
                self.repo.transition(intent_id, IntentState.ENTRY_FAILED,
                                     reason=f"expired: not sent within {self.policy.intent_ttl_s} s of its creation")
            elif state is IntentState.NEW:
                ack = await self._submit(record)
            elif state in (IntentState.SUBMITTING, IntentState.SUBMITTED):
                await self._confirm(record, ack)
            elif state is IntentState.CONFIRMED:
                await self._protect(record)
            elif state is IntentState.PROTECTED:
                self.repo.transition(intent_id, IntentState.OPEN)
            elif state is IntentState.ROLLING_BACK:
                await self._roll_back(record)
            else:
                raise AssertionError(f"no step for unfinished state {state}")
        return record

    # ------------------------------------------------------------------ steps

    def _expired(self, record: IntentRecord) -> bool:
        # An intent left NEW by a crash or an error was never sent; acting on it much later would
        # trade on a stale decision.
        return self.clock.now_ms() - record.intent.created_ms > self.policy.intent_ttl_s * 1000

    async def _submit(self, record: IntentRecord) -> Ack | None:
        intent = record.intent
        try:
            self._require_flat_locally(intent)
            if (held := await self.venue.position(intent.symbol)) is not None:
                raise NotFlat(f"the venue holds a {held.side.value} {held.size} {intent.symbol} position")
        except NotFlat as error:
            self.repo.transition(intent.intent_id, IntentState.ENTRY_FAILED, reason=f"not flat: {error}")
            return None
        except BotError as error:
            # Nothing was sent: fail now rather than leave an intent a later pass would act on.
            self.repo.transition(intent.intent_id, IntentState.ENTRY_FAILED, reason=f"not sent: {error}")
            if isinstance(error, Halt):
                raise
            return None
        client_id = intent.client_id(Role.ENTRY)
        with self.repo.transaction():
            self.repo.record_order(role=Role.ENTRY, symbol=intent.symbol, side=intent.side.entry, qty=intent.qty,
                                   client_order_id=client_id, intent_id=intent.intent_id)
            self.repo.transition(intent.intent_id, IntentState.SUBMITTING, client_order_id=client_id)
        try:
            ack = await retrying(lambda: self.venue.create_entry(intent.symbol, intent.side, intent.qty, client_id),
                                 attempts=self.policy.write_attempts, delay_s=self.policy.retry_delay_s)
        except (Rejected, RetryLater, Halt) as error:
            # Refused before taking effect (rules, funds, clock, rate limit; or credentials, account
            # mode, which also stop the bot): nothing to resolve.
            self.repo.transition(intent.intent_id, IntentState.ENTRY_FAILED, reason=f"refused: {error}")
            if isinstance(error, Halt):
                raise
            return None
        except OutcomeUnknown as error:
            self.repo.journal("entry.outcome_unknown", intent.intent_id, client_order_id=client_id, error=str(error))
            return None  # SUBMITTING: resolved by the client id
        with self.repo.transaction():
            self.repo.record_order(role=Role.ENTRY, symbol=intent.symbol, side=intent.side.entry, qty=intent.qty,
                                   client_order_id=client_id, intent_id=intent.intent_id,
                                   venue_order_id=ack.venue_order_id, status="acknowledged")
            self.repo.transition(intent.intent_id, IntentState.SUBMITTED, entry_order_id=ack.venue_order_id)
        return ack

    def _require_flat_locally(self, intent: Intent) -> None:
        held = [p for p in self.repo.open_positions() if p.symbol == intent.symbol]
        busy = [r for r in self.repo.unfinished() if r.intent.symbol == intent.symbol and r.intent != intent]
        if held:
            raise NotFlat(f"the database holds open position {held[0].position_id} on {intent.symbol}")
        if busy:
            raise NotFlat(f"intent {busy[0].intent.intent_id} is still working on {intent.symbol}")

    async def _confirm(self, record: IntentRecord, ack: Ack | None) -> None:
        intent = record.intent
        venue_order_id = record.entry_order_id or (ack.venue_order_id if ack else None)
        outcome: Outcome = await confirm_entry(
            self.venue, self.repo, intent, intent.client_id(Role.ENTRY), ack=ack, venue_order_id=venue_order_id,
            policy=self.policy,
        )
        if isinstance(outcome, Filled):
            fill = outcome.fill
            with self.repo.transaction():
                self.repo.transition(intent.intent_id, IntentState.CONFIRMED, entry_order_id=outcome.venue_order_id,
                                     filled_qty=fill.qty, avg_price=fill.avg_price, source=fill.source)
                adopted = self.repo.open_position_on(intent.symbol)
                if adopted is not None and adopted.intent_id is None and adopted.side is intent.side:
                    # A synchronizer pass saw the fill first and adopted it: this intent owns it.
                    self.repo.claim_position(adopted.position_id, intent.intent_id, qty=fill.qty,
                                             entry_price=fill.avg_price)
                else:
                    self.repo.open_position(symbol=intent.symbol, side=intent.side, qty=fill.qty,
                                            entry_price=fill.avg_price, intent_id=intent.intent_id,
                                            reason=f"entry filled (said by {fill.source})")
        elif isinstance(outcome, NotFilled):
            self.repo.transition(intent.intent_id, IntentState.ENTRY_FAILED, reason=outcome.reason)
        else:
            raise OutcomeUnknown(f"intent {intent.intent_id}: {outcome.reason}; it stays {record.state.value}")

    async def _protect(self, record: IntentRecord) -> None:
        intent = record.intent
        position = self._position_of(intent.intent_id)
        wanted = intent.side.stop_price(position.entry_price, intent.stop_fraction)
        client_id = intent.client_id(Role.STOP)
        try:
            trigger = await self.venue.stop_trigger(intent.symbol, intent.side, wanted)
        except Rejected as error:
            self.repo.transition(intent.intent_id, IntentState.ROLLING_BACK, reason=f"unprotectable: {error}")
            return
        self.repo.assign_stop(position.position_id, price=trigger, client_order_id=client_id)
        try:
            stop = await ensure_stop(self.venue, self.repo, symbol=intent.symbol, side=intent.side, qty=position.qty,
                                     trigger=trigger, client_id=client_id, intent_id=intent.intent_id,
                                     policy=self.policy)
        except ProtectionFailed as error:
            self.repo.transition(intent.intent_id, IntentState.ROLLING_BACK, reason=f"unprotected: {error}")
            return
        with self.repo.transaction():
            self.repo.set_stop(position.position_id, price=trigger, client_order_id=client_id,
                               venue_order_id=stop.venue_order_id)
            self.repo.transition(intent.intent_id, IntentState.PROTECTED, stop_order_id=stop.venue_order_id,
                                 stop_price=trigger)

    async def _roll_back(self, record: IntentRecord) -> None:
        intent = record.intent
        position = self.repo.position_for_intent(intent.intent_id)
        # Close first, cancel the stop after: until the venue is flat, any stop that made it is
        # the only protection the position has.
        flat = await flatten(self.venue, self.repo, symbol=intent.symbol, side=intent.side,
                             client_id_for=lambda: self.repo.unused_client_id(f"{intent.intent_id}-c"),
                             intent_id=intent.intent_id, policy=self.policy, clock=self.clock,
                             known_qty=position.qty if position is not None and position.is_open else None)
        if not flat:
            raise ProtectionFailed(
                f"intent {intent.intent_id}: could not verify {intent.symbol} flat after "
                f"{self.policy.flatten_attempts} close attempts; it stays rolling_back and the position stays recorded"
            )
        await self._cancel_stop_quietly(intent.symbol, intent.client_id(Role.STOP), intent.intent_id)
        with self.repo.transaction():
            if position is not None and position.is_open:
                self.repo.close_position(position.position_id, reason="rolled back: closed reduce-only, venue flat")
            self.repo.transition(intent.intent_id, IntentState.ROLLED_BACK, reason="venue verified flat")

    # ------------------------------------------------------------------ closing

    def close_base(self, position: PositionRecord) -> str:
        """What the client ids of this position's closes (and no other order's) start with."""
        return f"{position.intent_id or f'{self.prefix}p{position.position_id}'}-x"

    async def close(self, position_id: PositionId, *, reason: str = "requested") -> PositionRecord:
        """Close an open position on the venue (reduce-only, verified flat), then in the database."""
        position = self.repo.position(position_id)
        if not position.is_open:
            return position
        flat = await flatten(self.venue, self.repo, symbol=position.symbol, side=position.side,
                             client_id_for=lambda: self.repo.unused_client_id(self.close_base(position)),
                             intent_id=position.intent_id, policy=self.policy, clock=self.clock,
                             known_qty=position.qty)
        if not flat:
            raise ProtectionFailed(f"could not verify {position.symbol} flat; position {position_id} stays open")
        if position.stop_client_id:
            await self._cancel_stop_quietly(position.symbol, position.stop_client_id, position.intent_id)
        return self.repo.close_position(position_id, reason=reason)

    async def _cancel_stop_quietly(self, symbol: str, client_id: ClientOrderId, intent_id: IntentId | None) -> None:
        # A stop left behind is reduce-only, so it cannot open exposure; the synchronizer cancels orphans.
        try:
            await cancel_stop(self.venue, self.repo, symbol=symbol, client_id=client_id, intent_id=intent_id)
        except (RetryLater, OutcomeUnknown, Rejected) as error:
            self.repo.journal("stop.cancel_failed", intent_id, symbol=symbol, client_order_id=client_id,
                              error=str(error))

    def _position_of(self, intent_id: IntentId) -> PositionRecord:
        position = self.repo.position_for_intent(intent_id)
        if position is None:
            raise AssertionError(f"intent {intent_id} is confirmed but the database holds no position for it")
        return position

