"""Failures a review found, each replayed through the real path: the bot must now come out right."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest

from bot.errors import RetryLater
from bot.lifecycle import IntentState
from bot.values import Role, Side
from simulator.faults import DropBeforeApply, Fault, HttpAnswer, OnCall, RestTarget, TruncatedAnswer
from tests.bot.world import GIGA, Crash, World, crash_at

pytestmark = pytest.mark.virtual_time

QTY = Decimal(920)
STOP = Decimal("0.02")
POSITIONS = RestTarget("GET", "/v5/position/list")
REALTIME = RestTarget("GET", "/v5/order/realtime")
CREATE = RestTarget("POST", "/v5/order/create")


def bybit_ok(result: dict) -> str:  # type: ignore[type-arg]
    return json.dumps({"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": 1})


async def open_and_settle(world: World):  # noqa: ANN201
    bot = await world.bot()
    await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    await asyncio.sleep(10)  # past the settle time
    return bot


@pytest.mark.parametrize("effect", [HttpAnswer(200, "", "application/json"), TruncatedAnswer(keep_bytes=60)],
                         ids=["empty", "truncated"])
async def test_an_empty_200_for_the_positions_is_not_read_as_flat(
    world: World, effect: HttpAnswer | TruncatedAnswer
) -> None:
    bot = await open_and_settle(world)
    world.running.faults.add(Fault("unreadable body", POSITIONS, effect))

    with pytest.raises(RetryLater, match="not a Bybit envelope"):
        await bot.sync.cycle()

    assert len(bot.repo.open_positions()) == 1
    assert len(await bot.venue.open_stops()) == 1


async def test_one_well_formed_but_empty_reading_does_not_remove_protection(world: World) -> None:
    bot = await open_and_settle(world)
    stale = bybit_ok({"category": "linear", "list": [], "nextPageCursor": ""})
    world.running.faults.add(Fault("stale list", POSITIONS, HttpAnswer(200, stale, "application/json")))

    assert await bot.sync.cycle() == []  # one reading of "flat" only starts the clock
    assert GIGA in bot.sync.flat_readings
    await asyncio.sleep(30)
    assert await bot.sync.cycle() == []  # the next, true reading clears it

    assert bot.sync.flat_readings == {}
    assert len(bot.repo.open_positions()) == 1
    assert len(await bot.venue.open_stops()) == 1


async def test_unreadable_stop_lookups_keep_the_intent_confirmed_instead_of_closing(world: World) -> None:
    bot = await world.bot()
    world.running.faults.add(Fault("429s", REALTIME, HttpAnswer(429, "Too Many Requests", "text/plain"),
                                   OnCall(n=1, times=1000)))
    with pytest.raises(RetryLater, match="accepted stop .* but has not listed it open"):
        await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    [record] = bot.repo.unfinished()
    assert record.state is IntentState.CONFIRMED
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920"))]
    # Placed anyway, once: unreadable is no reason to stay bare, and the client id stops a second copy.
    account = world.running.account.account_id
    assert [o.client_order_id for o in world.engine.orders.open_for(account)] == [record.intent.client_id(Role.STOP)]

    world.running.faults.clear()
    [resumed] = await bot.opener.resume()

    assert resumed.state is IntentState.OPEN
    assert len(await bot.venue.open_stops()) == 1


async def test_an_intent_that_could_not_check_the_venue_fails_instead_of_waiting(world: World) -> None:
    bot = await world.bot()
    world.running.faults.add(Fault("503", POSITIONS, HttpAnswer(503, "<html>503</html>")))

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.ENTRY_FAILED and (record.reason or "").startswith("not sent")
    assert await bot.opener.resume() == []
    assert world.venue_positions() == []


async def test_an_intent_left_new_by_a_crash_expires_instead_of_trading_late(world: World) -> None:
    first = await world.bot()
    crash_at(first.venue, "position", after_sending=False)
    with pytest.raises(Crash):
        await first.opener.open(GIGA, Side.SHORT, QTY, STOP)
    await world.crash(first)
    await asyncio.sleep(3600)

    second = await world.bot()
    [record] = await second.opener.resume()

    assert record.state is IntentState.ENTRY_FAILED and "expired" in (record.reason or "")
    assert world.venue_positions() == []


async def test_an_empty_create_answer_is_an_unknown_outcome_not_an_order_called_none(world: World) -> None:
    bot = await world.bot()
    world.running.faults.add(Fault("empty create", CREATE, HttpAnswer(200, "", "application/json")))

    record = await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.ENTRY_FAILED
    assert record.entry_order_id is None
    assert any(e.kind == "entry.outcome_unknown" for e in bot.repo.events(record.intent.intent_id))


async def test_a_filled_intent_claims_the_position_a_synchronizer_adopted(world: World) -> None:
    first = await world.bot()
    crash_at(first.venue, "create_entry", after_sending=True)
    with pytest.raises(Crash):
        await first.opener.open(GIGA, Side.SHORT, QTY, STOP)
    # However it came about (an older run, a race), the database holds the fill as an adopted position.
    first.repo.open_position(symbol=GIGA, side=Side.SHORT, qty=QTY, entry_price=Decimal("0.0195"), intent_id=None,
                             reason="adopted")
    await world.crash(first)

    second = await world.bot()
    [record] = await second.opener.resume()

    assert record.state is IntentState.OPEN
    [position] = second.repo.open_positions()
    assert position.intent_id == record.intent.intent_id and position.stop_order_id is not None


async def test_a_restarted_seeded_synchronizer_does_not_reuse_a_stop_id(world: World) -> None:
    outsider = world.running.rest_client()
    await outsider.create_order(GIGA, "market", "sell", 920)
    first = await world.bot(seed=9)
    await first.sync.cycle()
    [old_stop] = await first.venue.open_stops()
    await first.venue.cancel(GIGA, old_stop.venue_order_id, stop=True)
    await world.crash(first)

    second = await world.bot(seed=9)  # draws the same ids as the first run
    await second.sync.cycle()

    [new_stop] = await second.venue.open_stops()
    assert new_stop.client_order_id != old_stop.client_order_id
    assert world.venue_positions() == [("GIGAUSDT", "short", Decimal("920.0"))]


async def test_our_stop_is_found_among_more_stops_than_one_page_holds(world: World) -> None:
    bot = await world.bot()
    await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    outsider = world.running.rest_client()
    await outsider.load_markets()
    for n in range(55):  # someone else's conditional orders, more than Bybit's largest page of 50
        await outsider.create_order("BTC/USDT:USDT", "market", "buy", 0.001, None,
                                    {"triggerPrice": 70000 + n, "triggerDirection": 1})
    sent = len(world.sim.trace.records)

    assert await bot.sync.cycle() == []
    scans = [r.fields["query"] for r in world.sim.trace.records[sent:]
             if r.kind == "rest.request" and "settleCoin" in str(r.fields["query"])
             and r.fields["path"] == "/v5/order/realtime"]
    # Two pages: 50, then the 6 left; a short page is the last, so no request for an empty one.
    assert len(scans) == 2 and "cursor=" not in scans[0] and "cursor=50" in scans[1]


async def test_a_second_bot_process_on_the_same_database_is_refused(world: World, tmp_path) -> None:  # noqa: ANN001
    from bot.errors import Halt
    from bot.lock import DatabaseLock

    held = DatabaseLock.take(world.db_path)
    try:
        with pytest.raises(Halt, match="another bot process is using"):
            DatabaseLock.take(world.db_path)
    finally:
        held.release()
    DatabaseLock.take(world.db_path).release()


# ---------------------------------------------------------------- second review


async def test_a_failed_replacement_stop_leaves_the_old_stop_on(world: World) -> None:
    bot = await world.bot()
    await bot.opener.open(GIGA, Side.SHORT, QTY, STOP)
    outsider = world.running.rest_client()
    await outsider.create_order(GIGA, "market", "sell", 920)  # someone doubles the short: the stop no longer covers
    world.running.faults.add(Fault("creates down", CREATE, DropBeforeApply(), OnCall(n=1, times=1000)))

    actions = await bot.sync.cycle()

    assert [type(a).__name__ for a in actions] == ["Resize", "PlaceStop", "CancelStop"]
    assert any(e.kind == "sync.action_skipped" for e in bot.repo.events())
    account = world.running.account.account_id
    [old_stop] = [o for o in world.engine.orders.open_for(account) if o.trigger_price is not None]
    assert old_stop.qty == QTY and world.venue_positions() == [("GIGAUSDT", "short", Decimal("1840"))]


async def test_a_seeded_intent_never_takes_the_name_of_an_earlier_stop(world: World) -> None:
    outsider = world.running.rest_client()
    await outsider.create_order(GIGA, "market", "sell", 920)
    first = await world.bot(seed=9)
    await first.sync.cycle()  # names a stop from the RNG
    [stop] = await first.venue.open_stops()
    await first.opener.close(first.repo.open_positions()[0].position_id)
    await world.crash(first)

    second = await world.bot(seed=9)  # the same RNG: its first intent id would name that stop again
    record = await second.opener.open(GIGA, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert f"{record.intent.intent_id}-s" != stop.client_order_id
