"""Keeping exposure safe: a verified stop-loss on the venue, or no exposure at all.

Both operations are idempotent by client order id and re-read venue truth before acting, so a
retry or a resumed run never doubles an order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from bot.clock import Clock
from bot.errors import (
    BotError,
    DuplicateClientId,
    NothingToReduce,
    OutcomeUnknown,
    ProtectionFailed,
    Rejected,
    RetryLater,
)
from bot.policy import Policy
from bot.repository import Repository
from bot.retry import retrying
from bot.values import ClientOrderId, IntentId, OrderReport, Role, Side
from bot.venue import Venue

# How far a venue's clock may lag ours and still accept our signed calls (Bybit and Binance: under 1 s).
_BEHIND_MS = 1_000


def _protects(report: OrderReport, side: Side, qty: Decimal, trigger: Decimal) -> bool:
    return (
        not report.status.is_final
        and report.side == side.exit
        and report.qty >= qty
        and report.trigger_price is not None
        and report.trigger_price == trigger
    )


async def ensure_stop(
    venue: Venue,
    repo: Repository,
    *,
    symbol: str,
    side: Side,
    qty: Decimal,
    trigger: Decimal,
    client_id: ClientOrderId,
    intent_id: IntentId | None,
    policy: Policy,
) -> OrderReport:
    """A stop-loss for ``side`` at ``trigger`` that the venue shows open; placed only if not already there.

    Up to ``protect_attempts`` placements while no stop is in sight. Once the venue has accepted the
    stop (an answer with its id, or a duplicate refusal of the client id, which says it is open),
    no more placements: the lookups continue on the confirmation ladder's delays, and a venue whose
    read side lags behind it gets ``RetryLater`` (verify later), never a rollback of a protected position.
    """
    last_error = "no attempt made"
    placements = 0
    accepted = False
    waits = iter(policy.confirm_delays())
    # A client id never sent names no order yet: placing at once puts the stop on a round trip
    # after the fill, and a whole timeout sooner when the venue is slow to answer the lookup
    # (found by the fuzzer, Bybit seed 76). Resumed work (the id was recorded) looks first.
    look = repo.order_ids(client_id) is not None
    while True:
        existing, lookup_failed = None, False
        if look:
            try:
                existing = await venue.order_realtime(symbol, client_id=client_id, stop=True)
            except RetryLater as error:
                last_error, lookup_failed = str(error), True
        look = True
        if existing is not None:
            if _protects(existing, side, qty, trigger):
                repo.record_order(role=Role.STOP, symbol=symbol, side=side.exit, qty=qty, client_order_id=client_id,
                                  intent_id=intent_id, venue_order_id=existing.venue_order_id, status="verified")
                return existing
            # Fired, cancelled, or not the stop we meant: a new stop would need a new client id.
            raise ProtectionFailed(
                f"stop {client_id} on {symbol} is {existing.status.value} {existing.side} {existing.qty} at trigger"
                f" {existing.trigger_price}; wanted an open {side.exit} {qty} at {trigger}"
            )
        if accepted:
            wait = next(waits, None)
            if wait is None:
                raise RetryLater(f"the venue accepted stop {client_id} on {symbol} but has not listed it open"
                                 f" (last: {last_error}); verify again later")
            await asyncio.sleep(wait)
            continue
        if placements == policy.protect_attempts:
            break
        placements += 1
        # Placed even when the lookup failed: the client id makes a second copy of an open stop
        # impossible (the venue refuses it as a duplicate), and an unprotected position is worse.
        repo.record_order(role=Role.STOP, symbol=symbol, side=side.exit, qty=qty, client_order_id=client_id,
                          intent_id=intent_id)
        try:
            await retrying(lambda: venue.create_stop(symbol, side, qty, trigger, client_id),
                           attempts=policy.write_attempts, delay_s=policy.retry_delay_s)
        except Rejected as error:
            raise ProtectionFailed(f"the venue refused stop {client_id} at {trigger} on {symbol}: {error}") from error
        except DuplicateClientId as error:
            accepted, last_error = True, str(error)  # an open order already carries this client id
            continue
        except (OutcomeUnknown, RetryLater) as error:
            last_error = str(error)  # the lookup decides whether it landed
        else:
            accepted, last_error = True, "accepted, not yet listed open"
            continue  # verify at once: most venues list a new order as soon as they answer
        await asyncio.sleep(policy.retry_delay_s * placements)
    if lookup_failed:
        # The venue could not be read: the stop may well be there. Not a reason to close the
        # position; the caller keeps its state and verifies again later.
        raise RetryLater(f"could not read whether stop {client_id} on {symbol} is open (last: {last_error})")
    raise ProtectionFailed(
        f"could not verify stop {client_id} at {trigger} on {symbol} after {policy.protect_attempts} attempts"
        f" (last: {last_error})"
    )


async def flatten(
    venue: Venue,
    repo: Repository,
    *,
    symbol: str,
    side: Side,
    client_id_for: Callable[[], ClientOrderId],
    intent_id: IntentId | None,
    policy: Policy,
    clock: Clock,
    known_qty: Decimal | None = None,
) -> bool:
    """Close the ``side`` exposure on ``symbol`` with reduce-only orders; True once it is gone.

    ``known_qty``: exposure the bot's own evidence (a confirmed fill) says exists. Then a "flat"
    position list is not believed on its own, since a stale list would make the bot forget a real
    position: a reduce-only close for that quantity is sent, and the exposure counts as gone only
    when the close's own report says it filled, or the venue refuses it for want of anything to
    reduce. A close refused by a rate limit, or whose fill the bot cannot see, leaves the quantity
    as it was. Without it, each attempt re-reads the position and closes what the venue lists.
    ``client_id_for()`` names each close order, never reusing an id the bot sent before.
    """
    remaining = known_qty
    for attempt in range(1, policy.flatten_attempts + 2):  # the extra round only reads: did the last close land?
        if remaining is None:
            try:
                position = await venue.position(symbol)
            except RetryLater:
                await asyncio.sleep(policy.retry_delay_s * attempt)
                continue
            if position is None or position.side is not side:
                repo.journal("flatten.flat", intent_id, symbol=symbol, attempt=attempt, said_by="position")
                return True
            qty = position.size
        else:
            qty = remaining
        if attempt > policy.flatten_attempts:
            break
        client_id = client_id_for()
        repo.record_order(role=Role.CLOSE, symbol=symbol, side=side.exit, qty=qty, client_order_id=client_id,
                          intent_id=intent_id)
        try:
            ack = await venue.create_close(symbol, side, qty, client_id)
        except NothingToReduce as error:
            # The matching engine says the side is flat: no list (which can lag) is asked. A close of
            # ours may have filled unseen before it: a list showing the side as it was before the
            # refusal lags, so the refusal's time is kept like a close fill's.
            repo.journal("flatten.flat", intent_id, symbol=symbol, attempt=attempt, said_by="refusal",
                         error=str(error))
            repo.note_venue_close(symbol, await _refusal_time(venue, repo, clock, error, intent_id), side)
            return True
        except Rejected as error:
            # A reduce-only close is refused when there is nothing left to reduce on that side.
            repo.journal("flatten.refused", intent_id, symbol=symbol, attempt=attempt, error=str(error))
            remaining = None  # the position list decides from here
        except RetryLater as error:
            # Nothing happened (a rate limit, the clock): the exposure the bot knows of is all still
            # there. A list saying "flat" now would be the stale-list case, so it is not asked.
            repo.journal("flatten.error", intent_id, symbol=symbol, attempt=attempt, error=str(error))
        except OutcomeUnknown as error:
            repo.journal("flatten.error", intent_id, symbol=symbol, attempt=attempt, error=str(error))
            if remaining is not None:
                remaining -= await _close_filled(venue, repo, symbol, None, client_id) or 0
        else:
            repo.record_order(role=Role.CLOSE, symbol=symbol, side=side.exit, qty=qty, client_order_id=client_id,
                              intent_id=intent_id, venue_order_id=ack.venue_order_id, status="sent")
            if remaining is not None:
                # A fill the bot cannot see yet counts as none: the next close is reduce-only, so if
                # this one did fill the venue refuses the next for want of anything to reduce (and the
                # list decides only then). Believing a "flat" list instead is the stale-list trap.
                remaining -= await _close_filled(venue, repo, symbol, ack.report, client_id) or 0
        if remaining is not None and remaining <= 0:
            repo.journal("flatten.flat", intent_id, symbol=symbol, attempt=attempt, said_by="close order")
            return True
        await asyncio.sleep(policy.retry_delay_s)
    return False


async def find_by_client_id(venue: Venue, symbol: str, client_id: ClientOrderId) -> OrderReport | None:
    """An order of ours by its client id: the live view first, then the history."""
    return await venue.order_realtime(symbol, client_id=client_id) or await venue.order_history(symbol, client_id=client_id)


async def _close_filled(
    venue: Venue, repo: Repository, symbol: str, report: OrderReport | None, client_id: ClientOrderId
) -> Decimal | None:
    """How much a close order filled, from its own report or a lookup by client id; None when unknown.
    A fill's venue time is kept: a position list showing the symbol as it was before then lags."""
    if report is None or not report.status.is_final:
        try:
            report = await find_by_client_id(venue, symbol, client_id)
        except RetryLater:
            return None
    if report is None or not report.status.is_final:
        return None
    if report.filled and report.created_ms is not None:
        repo.note_venue_close(symbol, report.created_ms, None)  # a fill moved the position, whatever side
    return report.filled


async def cancel_stop(
    venue: Venue, repo: Repository, *, symbol: str, client_id: ClientOrderId, intent_id: IntentId | None
) -> None:
    """Cancel the stop named ``client_id`` if the venue still holds it open."""
    report = await venue.order_realtime(symbol, client_id=client_id, stop=True)
    if report is not None and not report.status.is_final:
        cancelled = await venue.cancel(symbol, report.venue_order_id, stop=True)
        repo.journal("stop.cancelled", intent_id, symbol=symbol, client_order_id=client_id, was_open=cancelled)


async def _refusal_time(
    venue: Venue, repo: Repository, clock: Clock, error: NothingToReduce, intent_id: IntentId | None
) -> int:
    """When the venue refused: the time in its answer (Bybit's), else its clock read right after
    (Binance's -2022 carries none), else the latest the refusal can have been on our clock.

    Later than the refusal is the safe side: it can only set aside more of what a lagging list says
    about the closed side, and only for ``SyncRules.lag_ms`` past this time. Earlier is the unsafe
    side. A venue that accepted our signed close is at most its receive window ahead of our clock and
    under a second behind it (both venues refuse a request stamped 1 s or more ahead of them), so a
    stamp outside that is not the venue's (a proxy, a cached answer, a bug) and is not used."""
    refused_by_ms = clock.now_ms()  # the refusal came before this, on our clock
    window_ms = venue.clock_tolerance_ms
    stamp, said_by = error.venue_ms, "answer"
    if stamp is None:
        try:
            stamp, said_by = await venue.time_ms(), "server time"
        except BotError as failure:  # whatever it was, the refusal stands: only its time is unknown
            stamp, said_by = None, str(failure)
    latest = clock.now_ms() + window_ms
    if stamp is not None and refused_by_ms - _BEHIND_MS <= stamp <= latest:
        return stamp
    repo.journal("flatten.close_time_local", intent_id, venue_ms=stamp, said_by=said_by, used_ms=latest)
    return latest
