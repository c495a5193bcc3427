"""The confirmation ladder's decisions, over a scripted venue: the cases no healthy venue produces on demand.

The ladder's sources against the real Bybit venue are in ``test_opener_bybit.py``. Here a
scripted implementation of the bot's own ``Venue`` interface (not ccxt) answers each source as a
test says, to pin down the last-resort position source and the "never assume failed" rule.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from bot.confirm import Filled, NotFilled, Unresolved, confirm_entry
from bot.errors import RetryLater
from bot.policy import Policy
from bot.repository import Repository
from bot.values import ClientOrderId, Intent, IntentId, OrderReport, OrderStatus, PositionReport, Role, Side

SYMBOL = "GIGA/USDT:USDT"
INTENT = Intent(IntentId("hbtest"), SYMBOL, Side.SHORT, Decimal(920), Decimal("0.02"), 0)
CLIENT = INTENT.client_id(Role.ENTRY)
POLICY = Policy(confirm_rounds=3, confirm_delay_s=0.0, push_wait_s=0.0)


class ManualClock:
    def now_ms(self) -> int:
        return 0


class ScriptedVenue:
    """Answers each read from a script; everything else fails loudly."""

    name = "scripted"

    def __init__(self, *, orders: list[OrderReport | None | Exception] | None = None,
                 positions: list[PositionReport | None | Exception] | None = None) -> None:
        self.orders = list(orders or [])
        self.positions_ = list(positions or [])
        self.calls: list[str] = []

    async def wait_for_push(self, *_: Any) -> OrderReport | None:
        return None

    async def _order(self, what: str) -> OrderReport | None:
        self.calls.append(what)
        answer = self.orders.pop(0) if self.orders else None
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def order_realtime(self, symbol: str, **ids: Any) -> OrderReport | None:
        return await self._order("realtime " + ",".join(k for k, v in ids.items() if v))

    async def order_history(self, symbol: str, **ids: Any) -> OrderReport | None:
        return await self._order("history " + ",".join(k for k, v in ids.items() if v))

    async def position(self, symbol: str) -> PositionReport | None:
        self.calls.append("position")
        answer = self.positions_.pop(0) if self.positions_ else None
        if isinstance(answer, Exception):
            raise answer
        return answer

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"the scripted venue doesn't (yet) support {name}")


def filled_report(status: OrderStatus = OrderStatus.CLOSED, filled: str = "920") -> OrderReport:
    return OrderReport("v1", CLIENT, SYMBOL, "sell", status, Decimal(920), Decimal(filled),  # type: ignore[arg-type]
                       Decimal("0.0195") if filled != "0" else None, False, None, "history")


def confirm(venue: ScriptedVenue, **kwargs: Any) -> Any:
    repo = Repository.open(":memory:", ManualClock())
    repo.add_intent(INTENT)
    return asyncio.run(confirm_entry(venue, repo, INTENT, ClientOrderId(CLIENT), ack=None,  # type: ignore[arg-type]
                                     venue_order_id=kwargs.get("venue_order_id"), policy=POLICY))


def test_the_position_confirms_an_entry_no_order_source_knows() -> None:
    venue = ScriptedVenue(positions=[PositionReport(SYMBOL, Side.SHORT, Decimal(920), Decimal("0.0196"))])

    outcome = confirm(venue)

    assert outcome == Filled(fill=outcome.fill, venue_order_id=None)
    assert (outcome.fill.qty, outcome.fill.avg_price, outcome.fill.source) == (Decimal(920), Decimal("0.0196"), "position")
    assert venue.calls == ["realtime client_id", "history client_id", "position"]


def test_sources_are_asked_cheapest_first_and_the_first_final_report_decides() -> None:
    venue = ScriptedVenue(orders=[None, filled_report()])

    outcome = confirm(venue, venue_order_id="v1")

    assert isinstance(outcome, Filled) and outcome.fill.source == "history"
    assert venue.calls == ["realtime venue_order_id", "history venue_order_id"]


def test_an_open_order_does_not_decide_and_the_ladder_goes_on() -> None:
    venue = ScriptedVenue(orders=[filled_report(OrderStatus.OPEN, "0"), filled_report()])

    assert isinstance(confirm(venue, venue_order_id="v1"), Filled)


def test_a_cancelled_unfilled_entry_is_not_filled() -> None:
    venue = ScriptedVenue(orders=[filled_report(OrderStatus.CANCELED, "0")])

    outcome = confirm(venue, venue_order_id="v1")

    assert isinstance(outcome, NotFilled) and "canceled" in outcome.reason


def test_silence_with_a_flat_venue_after_every_round_is_not_filled() -> None:
    venue = ScriptedVenue()

    outcome = confirm(venue)

    assert isinstance(outcome, NotFilled)
    assert venue.calls.count("position") == POLICY.confirm_rounds


def test_an_unreadable_venue_leaves_the_outcome_unresolved_never_failed() -> None:
    down = RetryLater("position: NetworkError: connection reset")
    venue = ScriptedVenue(orders=[down] * 10, positions=[down] * POLICY.confirm_rounds)

    outcome = confirm(venue)

    assert isinstance(outcome, Unresolved)


def test_a_flat_reading_only_in_an_early_round_does_not_fail_the_entry() -> None:
    down = RetryLater("position: RequestTimeout")
    venue = ScriptedVenue(positions=[None, down, down])

    assert isinstance(confirm(venue), Unresolved)


def test_a_position_on_the_other_side_is_not_this_entry() -> None:
    other = PositionReport(SYMBOL, Side.LONG, Decimal(5), Decimal(1))
    venue = ScriptedVenue(positions=[other] * POLICY.confirm_rounds)

    outcome = confirm(venue)

    assert isinstance(outcome, Unresolved)


@pytest.mark.parametrize("rounds", [1, 2, 5])
def test_the_ladder_runs_exactly_its_rounds(rounds: int) -> None:
    venue = ScriptedVenue()
    policy = Policy(confirm_rounds=rounds, confirm_delay_s=0.0, push_wait_s=0.0)
    repo = Repository.open(":memory:", ManualClock())
    repo.add_intent(INTENT)

    asyncio.run(confirm_entry(venue, repo, INTENT, ClientOrderId(CLIENT), ack=None,  # type: ignore[arg-type]
                              venue_order_id=None, policy=policy))

    assert venue.calls.count("position") == rounds


def test_an_order_still_working_in_every_round_is_unresolved_not_failed() -> None:
    working = filled_report(OrderStatus.OPEN, "0")
    venue = ScriptedVenue(orders=[working] * 20)

    outcome = confirm(venue, venue_order_id="v1")

    assert isinstance(outcome, Unresolved) and "may yet fill" in outcome.reason
