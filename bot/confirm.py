"""How an entry ended, established from venue evidence in order of cost.

Sources, cheapest first: the create answer itself (complete on venues that send one), the order
stream, the live order view and the order history (each by venue order id, then by client order
id), and finally the position. A source that fails to answer is skipped for that round; the
outcome is ``Unresolved`` only when no round could tell, never "failed" by default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.errors import RetryLater
from bot.policy import Policy
from bot.repository import Repository
from bot.values import Ack, ClientOrderId, Fill, Intent, OrderReport, VenueOrderId
from bot.venue import Venue


@dataclass(frozen=True, slots=True)
class Filled:
    fill: Fill
    venue_order_id: VenueOrderId | None


@dataclass(frozen=True, slots=True)
class NotFilled:
    reason: str


@dataclass(frozen=True, slots=True)
class Unresolved:
    reason: str


Outcome = Filled | NotFilled | Unresolved


def _decide(report: OrderReport) -> Outcome | None:
    """A final report settles the entry; an open one does not."""
    if not report.status.is_final:
        return None
    if report.filled > 0 and report.avg_price is not None:
        return Filled(Fill(report.filled, report.avg_price, report.source), report.venue_order_id)
    if report.filled > 0:
        return None  # filled without a price: let a richer source answer
    return NotFilled(f"the entry ended {report.status.value} with nothing filled (said by {report.source})")


async def confirm_entry(
    venue: Venue,
    repo: Repository,
    intent: Intent,
    client_id: ClientOrderId,
    *,
    ack: Ack | None,
    venue_order_id: VenueOrderId | None,
    policy: Policy,
) -> Outcome:
    if ack is not None and ack.report is not None:
        decided = _decide(ack.report)
        repo.journal("confirm.source", intent.intent_id, source="create", decided=decided is not None)
        if decided is not None:
            return decided
    symbol = intent.symbol
    sources: list[tuple[str, Callable[[], Awaitable[OrderReport | None]]]] = []
    if venue_order_id is not None:
        sources += [
            ("realtime by venue id", lambda: venue.order_realtime(symbol, venue_order_id=venue_order_id)),
            ("history by venue id", lambda: venue.order_history(symbol, venue_order_id=venue_order_id)),
        ]
    sources += [
        ("realtime by client id", lambda: venue.order_realtime(symbol, client_id=client_id)),
        ("history by client id", lambda: venue.order_history(symbol, client_id=client_id)),
    ]
    delays = policy.confirm_delays()
    seen_working: str | None = None  # a source that showed the order still working: it may yet fill
    for round_no in range(policy.confirm_rounds):
        wait = policy.push_wait_s if round_no == 0 else 0.0
        pushed = await venue.wait_for_push(venue_order_id, client_id, wait)
        if pushed is not None and (decided := _decide(pushed)) is not None:
            repo.journal("confirm.source", intent.intent_id, source="push", round=round_no, decided=True)
            return decided
        if pushed is not None:
            seen_working = "push"
        for name, lookup in sources:
            try:
                report = await lookup()
            except RetryLater as error:
                repo.journal("confirm.source", intent.intent_id, source=name, round=round_no, error=str(error))
                continue
            decided = _decide(report) if report is not None else None
            repo.journal("confirm.source", intent.intent_id, source=name, round=round_no,
                         found=report is not None, decided=decided is not None)
            if decided is not None:
                return decided
            if report is not None:
                seen_working = name
        try:
            position = await venue.position(symbol)
        except RetryLater as error:
            repo.journal("confirm.source", intent.intent_id, source="position", round=round_no, error=str(error))
            position = None
            flat_seen = False
        else:
            flat_seen = position is None
        if position is not None and position.side is intent.side:
            # The opener only enters on a flat symbol, so this position is the entry's fill.
            repo.journal("confirm.source", intent.intent_id, source="position", round=round_no, decided=True)
            return Filled(Fill(min(position.size, intent.qty), position.entry_price, "position"), venue_order_id)
        repo.journal("confirm.source", intent.intent_id, source="position", round=round_no,
                     found=position is not None, decided=False)
        if round_no == policy.confirm_rounds - 1:
            if seen_working is not None:
                return Unresolved(f"{seen_working} showed order {venue_order_id or client_id} still working after"
                                  f" {policy.confirm_rounds} rounds; it may yet fill")
            if flat_seen:
                return NotFilled(
                    f"after {policy.confirm_rounds} rounds no source knows order {venue_order_id or client_id} "
                    f"and the venue holds no {intent.symbol} position"
                )
            return Unresolved(f"after {policy.confirm_rounds} rounds the venue could not be read for {client_id}")
        await asyncio.sleep(delays[round_no])
    raise AssertionError("unreachable: confirm_rounds must be at least 1")
