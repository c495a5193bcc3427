"""The position opener against the in-process Bybit venue, through unmodified ccxt, on virtual time."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from bot.errors import Halt, Rejected
from bot.lifecycle import IntentState
from bot.repository import Repository
from bot.values import Role, Side
from simulator.faults import (
    DropAfterApply,
    DropBeforeApply,
    Fault,
    HttpAnswer,
    OnCall,
    PositionLag,
    QueryTarget,
    RestTarget,
    TruncatedAnswer,
    VisibilityLag,
)
from tests.bot.world import GIGA, Crash, World, crash_at

pytestmark = pytest.mark.virtual_time

QTY = Decimal(920)
STOP = Decimal("0.02")


def decided_source(repo: Repository, intent_id: str) -> str:
    decided = [e.data["source"] for e in repo.events(intent_id) if e.kind == "confirm.source" and e.data.get("decided")]
    assert len(decided) == 1, f"expected exactly one deciding source, journal says {decided}"
    return decided[0]


async def test_opens_protects_and_closes_a_short(world: World) -> None:
    bot = await world.bot()
    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert (record.filled_qty, record.avg_price) == (Decimal("920"), Decimal("0.0195"))
    [position] = bot.repo.open_positions()
    assert (position.symbol, position.side, position.qty) == (GIGA, Side.SHORT, Decimal("920"))
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920"))]
    [stop] = await bot.venue.open_stops()
    # 0.0195 * 1.02 = 0.01989, on the losing side of a short, reduce-only, for the whole position.
    assert (stop.side, stop.qty, stop.trigger_price, stop.reduce_only) == ("buy", Decimal("920"), Decimal("0.01989"), True)
    assert (position.stop_order_id, position.stop_client_id) == (stop.venue_order_id, stop.client_order_id)
    assert stop.client_order_id == record.intent.client_id(Role.STOP)
    assert decided_source(bot.repo, record.intent.intent_id) == "push"

    closed = await bot.opener.close(position.position_id)

    assert not closed.is_open
    assert world.venue_positions() == []
    assert await bot.venue.open_stops() == []


async def test_a_new_stop_goes_on_before_any_lookup_of_it(world: World) -> None:
    """A client id never sent names no order: the stop is placed first and looked up after (a lookup
    first cost a whole timeout of exposure on a slow venue: Bybit seed 76). A resumed one is looked
    up first (test_a_stop_placed_unseen_before_a_crash_is_found_not_doubled)."""
    bot = await world.bot()
    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    stop_id = record.intent.client_id(Role.STOP)

    calls = [(r.fields["method"], r.fields["path"]) for r in world.sim.trace.records
             if r.kind == "rest.request" and stop_id in f"{r.fields['query']}{r.fields['body']}"]
    assert calls[:2] == [("POST", "/v5/order/create"), ("GET", "/v5/order/realtime")]
    assert record.state is IntentState.OPEN


async def test_a_long_gets_its_stop_below_the_entry(world: World) -> None:
    bot = await world.bot()
    record = await bot.opener.open("BTC/USDT:USDT", Side.LONG, Decimal("0.01"), Decimal("0.05"))

    assert record.state is IntentState.OPEN
    [stop] = await bot.venue.open_stops()
    assert (stop.side, stop.trigger_price) == ("sell", Decimal("57000.0"))


async def test_a_refused_stop_rolls_the_entry_back_and_leaves_the_venue_flat(world: World) -> None:
    # The price jumps past the short's stop between the fill and the stop: Bybit refuses the
    # stop (110092 "expect Rising"), and an unprotected position must not stay open.
    world.on_fill(lambda e: world.engine.set_price("GIGAUSDT", "0.0210") if e.execution.qty == QTY else None)
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.ROLLED_BACK
    [rolling] = [e for e in bot.repo.events(record.intent.intent_id) if e.kind == "intent.rolling_back"]
    assert "110092" in rolling.data["reason"], rolling.data
    assert world.venue_positions() == []
    assert await bot.venue.open_stops() == []
    [position] = bot.repo.positions()
    assert not position.is_open and position.close_reason is not None and "rolled back" in position.close_reason


async def test_refuses_to_enter_a_symbol_the_venue_already_holds(world: World) -> None:
    bot = await world.bot()
    held = world.running.rest_client()
    await held.create_order(GIGA, "market", "buy", 300)

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.ENTRY_FAILED
    assert "not flat" in (record.reason or "")
    assert world.venue_positions() == [("GIGAUSDT", "long", Decimal("300"))]


async def test_an_order_the_venue_refuses_fails_the_intent_without_exposure(world: World) -> None:
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.SHORT, Decimal("10000000"), STOP)

    assert record.state is IntentState.ENTRY_FAILED
    assert "refused" in (record.reason or "")
    assert world.venue_positions() == []
    assert bot.repo.positions() == []


async def test_an_account_in_hedge_mode_halts_the_bot_at_its_first_order(world: World) -> None:
    # The simulated account is one-way; a real one in hedge mode answers every one-way order like this.
    bot = await world.bot()
    hedged = '{"retCode":10001,"retMsg":"position idx not match position mode","result":{},"retExtInfo":{},"time":%d}'
    world.running.faults.add(Fault("hedged", RestTarget("POST", "/v5/order/create"),
                                   HttpAnswer(200, hedged % world.running.engine.now_ms(), "application/json")))

    with pytest.raises(Halt, match="switch-mode mode=0"):
        await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    assert world.venue_positions() == [] and bot.repo.positions() == []
    [intent] = bot.repo.intents()
    assert intent.state is IntentState.ENTRY_FAILED  # refused, not left for a restart to resolve


# ---------------------------------------------------------------- each confirmation source


async def test_confirms_from_the_realtime_view_when_no_push_arrives(world: World) -> None:
    bot = await world.bot(stream=False)
    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert decided_source(bot.repo, record.intent.intent_id) == "realtime by venue id"


async def test_confirms_from_history_when_a_venue_restart_emptied_the_realtime_view(world: World) -> None:
    world.on_fill(lambda e: world.engine.restart())
    bot = await world.bot(stream=False)

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert decided_source(bot.repo, record.intent.intent_id) == "history by venue id"
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920"))]


@pytest.mark.parametrize(("restart_venue", "source"), [(False, "realtime by client id"), (True, "history by client id")])
async def test_a_bot_that_died_after_sending_resolves_the_entry_by_its_client_id(
    world: World, restart_venue: bool, source: str
) -> None:
    first = await world.bot(stream=False)
    crash_at(first.venue, "create_entry", after_sending=True)
    with pytest.raises(Crash):
        await first.opener.open(GIGA, Side.SHORT, QTY, STOP)
    [intent_id] = [r.intent.intent_id for r in first.repo.unfinished()]
    await world.crash(first)
    if restart_venue:
        world.engine.restart()

    second = await world.bot(stream=False)
    [record] = await second.opener.resume()

    assert record.state is IntentState.OPEN
    assert record.intent.intent_id == intent_id
    assert decided_source(second.repo, intent_id) == source
    # One entry only: the resumed bot found the order instead of sending it again.
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920"))]
    assert len(await second.venue.open_stops()) == 1


async def test_a_bot_that_died_before_sending_finds_no_order_and_fails_the_intent(world: World) -> None:
    first = await world.bot()
    crash_at(first.venue, "create_entry", after_sending=False)
    with pytest.raises(Crash):
        await first.opener.open(GIGA, Side.SHORT, QTY, STOP)
    await world.crash(first)

    second = await world.bot()
    start = world.sim.now_ms()
    [record] = await second.opener.resume()

    assert record.state is IntentState.ENTRY_FAILED
    assert "no source knows" in (record.reason or "")
    # Every round over every source ran first (seconds of venue time): never "assumed failed".
    assert world.sim.now_ms() - start >= 1000 * sum(second.opener.policy.confirm_delays())
    assert world.venue_positions() == []


# ---------------------------------------------------------------- restart mid-open


async def test_a_bot_that_died_before_placing_the_stop_protects_on_resume(world: World) -> None:
    first = await world.bot()
    crash_at(first.venue, "create_stop", after_sending=False)
    with pytest.raises(Crash):
        await first.opener.open(GIGA, Side.SHORT, QTY, STOP)
    assert first.repo.unfinished()[0].state is IntentState.CONFIRMED
    await world.crash(first)

    second = await world.bot()
    [record] = await second.opener.resume()

    assert record.state is IntentState.OPEN
    assert len(await second.venue.open_stops()) == 1


async def test_a_stop_placed_unseen_before_a_crash_is_found_not_doubled(world: World) -> None:
    first = await world.bot()
    crash_at(first.venue, "create_stop", after_sending=True)
    with pytest.raises(Crash):
        await first.opener.open(GIGA, Side.SHORT, QTY, STOP)
    await world.crash(first)

    second = await world.bot()
    [record] = await second.opener.resume()

    assert record.state is IntentState.OPEN
    [stop] = await second.venue.open_stops()
    [position] = second.repo.open_positions()
    assert position.stop_order_id == stop.venue_order_id


async def test_a_restart_with_nothing_unfinished_does_nothing(world: World) -> None:
    first = await world.bot()
    await first.opener.open(GIGA, Side.SHORT, QTY, STOP)
    await world.crash(first)

    second = await world.bot()

    assert await second.opener.resume() == []
    assert len(second.repo.open_positions()) == 1



# ---------------------------------------------------------------- unknown outcomes, through the venue's fault seam

CREATE = RestTarget("POST", "/v5/order/create")


def venue_orders(world: World) -> list:  # type: ignore[type-arg]
    return world.engine.orders.all_for(world.running.account.account_id)


@pytest.mark.parametrize(("stream", "source"), [(True, "push"), (False, "realtime by client id")])
async def test_an_entry_whose_answer_was_lost_after_the_fill_is_found_not_resent(
    world: World, stream: bool, source: str
) -> None:
    world.running.faults.add(Fault("entry answer lost", CREATE, DropAfterApply()))
    bot = await world.bot(stream=stream)

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert any(e.kind == "entry.outcome_unknown" for e in bot.repo.events(record.intent.intent_id))
    assert decided_source(bot.repo, record.intent.intent_id) == source
    assert [o.client_order_id for o in venue_orders(world) if not o.reduce_only] == [record.intent.client_id(Role.ENTRY)]
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920"))]


@pytest.mark.parametrize("effect", [DropBeforeApply(), HttpAnswer(503, "<html>503</html>")], ids=["dropped", "503"])
async def test_an_entry_that_never_reached_the_venue_is_resolved_as_failed_by_evidence(
    world: World, effect: DropBeforeApply | HttpAnswer
) -> None:
    world.running.faults.add(Fault("entry lost", CREATE, effect))
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.ENTRY_FAILED
    assert "no source knows" in (record.reason or "")
    assert venue_orders(world) == [] and world.venue_positions() == []


async def test_a_rate_limited_entry_is_retried_once_and_opens_once(world: World) -> None:
    world.running.faults.add(Fault("429", CREATE, HttpAnswer(429, "Too Many Requests", "text/plain")))
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert len([o for o in venue_orders(world) if not o.reduce_only]) == 1


async def test_a_stop_whose_answer_was_lost_is_verified_not_doubled(world: World) -> None:
    world.running.faults.add(Fault("stop answer lost", CREATE, DropAfterApply(), OnCall(n=2)))
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert len(await bot.venue.open_stops()) == 1


async def test_a_stop_the_venue_never_takes_rolls_back_and_a_lost_close_is_not_repeated(world: World) -> None:
    # Every stop attempt meets a gateway error; the rollback's close then fills but its answer is lost.
    bot = await world.bot()
    attempts = bot.opener.policy.protect_attempts  # a 502 is an unknown outcome: looked up, not resent blindly
    world.running.faults.add(Fault("no stops", CREATE, HttpAnswer(502, "<html>502</html>"), OnCall(n=2, times=attempts)))
    world.running.faults.add(Fault("close answer lost", CREATE, DropAfterApply(), OnCall(n=2 + attempts)))

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.ROLLED_BACK
    assert world.venue_positions() == []
    closes = [o for o in venue_orders(world) if o.reduce_only and o.trigger_price is None]
    assert [o.filled_qty for o in closes] == [Decimal(920)]  # one close: the lost answer was re-read, not resent


async def test_stop_triggers_round_away_from_the_market_onto_the_tick(world: World) -> None:
    bot = await world.bot()
    # GIGA's tick is 0.00001: nearest rounding would pull these toward the entry.
    assert await bot.venue.stop_trigger(GIGA, Side.SHORT, Decimal("0.019891")) == Decimal("0.01990")
    assert await bot.venue.stop_trigger(GIGA, Side.LONG, Decimal("0.019109")) == Decimal("0.01910")
    assert await bot.venue.stop_trigger(GIGA, Side.SHORT, Decimal("0.01989")) == Decimal("0.01989")
    with pytest.raises(Rejected, match="rounds to 0"):
        await bot.venue.stop_trigger(GIGA, Side.LONG, Decimal("0.000001"))
    with pytest.raises(Rejected, match="not listed"):
        await bot.venue.stop_trigger("NOPE/USDT:USDT", Side.LONG, Decimal(1))


async def test_a_stop_that_rounds_to_nothing_rolls_the_entry_back(world: World) -> None:
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.LONG, QTY, Decimal("0.9999"))

    assert record.state is IntentState.ROLLED_BACK and "unprotectable" in str(bot.repo.events(record.intent.intent_id))
    assert world.venue_positions() == []


async def test_after_the_venue_drops_the_order_stream_the_bot_reconnects_and_hears_pushes_again(world: World) -> None:
    bot = await world.bot()
    streams = world.running.venue.streams

    assert await streams.drop_private() == 1
    await asyncio.sleep(5)  # the bot's stream retries after 0.5 s
    await asyncio.wait_for(streams.wait_subscribed("order"), 30)
    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert decided_source(bot.repo, record.intent.intent_id) == "push"


async def test_a_stop_the_venue_accepted_but_lists_late_is_waited_for_not_rolled_back(world: World) -> None:
    world.running.faults.add(Fault("read side 5 s behind", QueryTarget("orders"), VisibilityLag(ms=5_000)))
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert len(await bot.venue.open_stops()) == 1
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920"))]


async def test_an_entry_answered_with_a_truncated_body_is_an_unknown_outcome_resolved_by_evidence(
    world: World,
) -> None:
    # ccxt parses the cut body as an order without an id and raises nothing: the bot must not take
    # that for an answer (nor for a refusal).
    world.running.faults.add(Fault("entry answer cut", CREATE, TruncatedAnswer(keep_bytes=30)))
    bot = await world.bot()

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert any(e.kind == "entry.outcome_unknown" for e in bot.repo.events(record.intent.intent_id))
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920"))]


async def test_a_rate_limited_close_is_retried_and_a_stale_flat_list_does_not_stand_in_for_it(world: World) -> None:
    # Found by the nightly fuzz (Bybit, seed 23): the close was refused with 429 (nothing happened),
    # the position list answered as of 20 s ago ("flat"), and the bot took the list's word: it
    # cancelled the stop of a position the venue still held.
    bot = await world.bot()
    await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    [position] = bot.repo.open_positions()
    await asyncio.sleep(30)  # 20 s ago, the venue was already short: the stale list must lie "flat" later
    world.running.faults.add(Fault("stale list", QueryTarget("positions"), PositionLag(ms=60_000)))
    world.running.faults.add(Fault("429", CREATE, HttpAnswer(429, "Too Many Requests", "text/plain"), OnCall(n=1)))

    closed = await bot.opener.close(position.position_id)

    assert not closed.is_open
    assert world.venue_positions() == []  # really closed by the retried close, not merely believed so
    kinds = [e.kind for e in bot.repo.events(position.intent_id)]
    assert "flatten.error" in kinds
    [flat] = [e for e in bot.repo.events(position.intent_id) if e.kind == "flatten.flat"]
    assert flat.data["said_by"] == "close order"


async def test_a_close_whose_fill_is_hidden_is_proven_by_the_next_closes_refusal(world: World) -> None:
    # Found by the nightly fuzz (Bybit, seed 23): the close filled but lookups could not see it yet,
    # and the position list lagged. The next reduce-only close is refused with 110017 (nothing to
    # reduce): the matching engine's word that the side is flat, which no lagging list can overrule.
    bot = await world.bot()
    await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    [position] = bot.repo.open_positions()
    await asyncio.sleep(30)
    world.running.faults.add(Fault("close unseen", QueryTarget("orders"), VisibilityLag(ms=4_000)))
    world.running.faults.add(Fault("stale list", QueryTarget("positions"), PositionLag(ms=20_000)))

    closed = await bot.opener.close(position.position_id)

    assert not closed.is_open and world.venue_positions() == []
    [flat] = [e for e in bot.repo.events(position.intent_id) if e.kind == "flatten.flat"]
    assert flat.data["said_by"] == "refusal" and "110017" in flat.data["error"]
    assert await bot.venue.open_stops() == []  # its stop went with it
    # The refusal's venue time is kept as a close fill's would be. The list, still showing the short as
    # it was before, is not adopted back; it was, and the database then held a phantom (the fuzzer's
    # dropped-closes-lagging-reads).
    refused = bot.repo.venue_closes()[GIGA]
    assert refused.side is Side.SHORT and refused.venue_ms == int(flat.data["error"].split('"time":')[1][:13])
    assert [p.side for p in await bot.venue.positions()] == [Side.SHORT]  # the lagging list
    assert await bot.sync.cycle() == []
    # A short opened after the refusal is real: the list shows it changed since, and it is adopted.
    world.running.faults.clear()
    await world.running.rest_client().create_order(GIGA, "market", "sell", 920)
    assert [type(a).__name__ for a in await bot.sync.cycle()] == ["Adopt", "PlaceStop"]
