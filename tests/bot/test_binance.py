"""The bot's lifecycle on the Binance USD-M venue: the same opener, protection and synchronizer."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.adapters.binance import BinanceVenue
from bot.adapters.ccxt_reports import order_report
from bot.clock import SystemClock
from bot.errors import Halt, RetryLater, Throttled
from bot.lifecycle import IntentState
from bot.opener import PositionOpener
from bot.reconcile import CloseOut, SyncRules
from bot.repository import Repository
from bot.synchronizer import Synchronizer
from bot.values import OrderStatus, Side
from simulator.engine.events import Executed
from simulator.engine.values import Symbol as SimSymbol
from simulator.faults import (
    DropAfterApply,
    DropBeforeApply,
    DropFrame,
    Fault,
    HttpAnswer,
    OnCall,
    PositionLag,
    QueryTarget,
    RestTarget,
    StreamTarget,
    VisibilityLag,
)
from simulator.server import RunningBinance, binance_engine, serve_binance
from simulator.simulation import Simulation
from simulator.tls import BINANCE_HOSTS, real_url_session

pytestmark = pytest.mark.virtual_time
TOWNS = "TOWNS/USDT:USDT"
QTY, STOP = Decimal(1000), Decimal("0.02")


class Bot:
    def __init__(self, running: RunningBinance, db: Path) -> None:
        clock, rng = SystemClock(), random.Random(1)
        self.venue = BinanceVenue(api_key=running.api_key, secret=running.api_secret, rest_url=running.base_url)
        self.repo = Repository.open(str(db), clock)
        self.opener = PositionOpener(self.venue, self.repo, clock=clock, rng=rng)
        self.sync = Synchronizer(self.venue, self.repo, self.opener, rules=SyncRules("hb", STOP), clock=clock, rng=rng)


@pytest_asyncio.fixture
async def binance(simulation: Simulation) -> AsyncIterator[RunningBinance]:
    async with serve_binance(engine=binance_engine(clock=simulation.clock, seed=1)) as running:
        yield running
        assert not running.venue.internal_errors, running.venue.internal_errors


@pytest_asyncio.fixture
async def bot(binance: RunningBinance, tmp_path: Path) -> AsyncIterator[Bot]:
    made = Bot(binance, tmp_path / "bot.sqlite3")
    await made.venue.start()
    await asyncio.wait_for(binance.venue.streams.wait_listening(binance.account.account_id), 10)
    yield made
    await made.venue.close()
    made.repo.close()


def held(running: RunningBinance) -> list[tuple[str, Decimal]]:
    return [(str(p.symbol), p.size) for p in running.engine.positions(running.account.account_id) if p.size]


def source(bot: Bot, intent_id: str) -> str:
    [decided] = [e.data["source"] for e in bot.repo.events(intent_id) if e.kind == "confirm.source"
                 and e.data.get("decided")]
    return str(decided)


async def test_opens_from_the_full_create_answer_protects_with_an_algo_stop_and_closes(
    binance: RunningBinance, bot: Bot
) -> None:
    record = await bot.opener.open(TOWNS, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert source(bot, record.intent.intent_id) == "create"  # Binance's RESULT answer is complete
    assert held(binance) == [("TOWNSUSDT", Decimal(-1000))]
    [stop] = await bot.venue.open_stops()
    assert (stop.side, stop.trigger_price, stop.client_order_id) == ("buy", Decimal("0.03183"),
                                                                     record.intent.intent_id + "-s")
    await bot.opener.close(bot.repo.open_positions()[0].position_id)
    assert held(binance) == [] and await bot.venue.open_stops() == []


@pytest.mark.parametrize(("body", "error", "said"), [
    ('{"dualSidePosition": true}', Halt, "hedge mode"),
    ("{}", RetryLater, "position mode"),
])
async def test_an_account_in_hedge_mode_stops_the_bot_at_start_saying_how_to_switch(
    binance: RunningBinance, body: str, error: type[Exception], said: str
) -> None:
    # The simulated account is one-way, as the bot needs; a real account may not be.
    binance.faults.add(Fault("hedged", RestTarget("GET", "/fapi/v1/positionSide/dual"),
                             HttpAnswer(200, body, "application/json")))
    venue = BinanceVenue(api_key=binance.api_key, secret=binance.api_secret, rest_url=binance.base_url)
    try:
        with pytest.raises(error, match=said) as raised:
            await venue.start()
        if error is Halt:
            assert "dualSidePosition=false" in str(raised.value)
    finally:
        await venue.close()


async def test_insufficient_margin_fails_the_intent_at_once(binance: RunningBinance, bot: Bot) -> None:
    record = await bot.opener.open(TOWNS, Side.LONG, Decimal(4_000_000), STOP)  # 124,800 USDT at 10x

    assert record.state is IntentState.ENTRY_FAILED
    assert "-2019" in (record.reason or "") and "refused" in (record.reason or "")
    assert not any(e.kind == "confirm.source" for e in bot.repo.events(record.intent.intent_id))


@pytest.mark.parametrize(("stream_lost", "expected"), [(False, "push"), (True, "realtime by client id")])
async def test_a_lost_answer_is_resolved_from_the_stream_or_by_the_client_id(
    binance: RunningBinance, bot: Bot, stream_lost: bool, expected: str
) -> None:
    binance.faults.add(Fault("entry answer lost", RestTarget("POST", "/fapi/v1/order"), DropAfterApply()))
    if stream_lost:
        binance.faults.add(Fault("pushes lost", StreamTarget("/private/ws"), DropFrame(), OnCall(1, 100)))

    record = await bot.opener.open(TOWNS, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert source(bot, record.intent.intent_id) == expected
    assert held(binance) == [("TOWNSUSDT", Decimal(-1000))]


async def test_a_stop_refused_after_a_price_jump_rolls_back(binance: RunningBinance, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    binance.engine.subscribe(lambda batch: [loop.call_soon(binance.engine.set_price, "TOWNSUSDT", "0.0340")
                                            for e in batch if isinstance(e, Executed) and e.execution.qty == QTY])

    record = await bot.opener.open(TOWNS, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.ROLLED_BACK
    assert held(binance) == []


@pytest.mark.parametrize("body", ["", "{}", '{"serverTime": "soon"}'])
async def test_the_venues_clock_is_read_and_an_answer_without_a_time_is_not_trusted(
    binance: RunningBinance, bot: Bot, body: str
) -> None:
    assert await bot.venue.time_ms() == binance.engine.now_ms()
    binance.faults.add(Fault("no time", RestTarget("GET", "/fapi/v1/time"),
                             HttpAnswer(200, body, "application/json")))
    with pytest.raises(RetryLater, match="server time"):
        await bot.venue.time_ms()


async def _close_whose_fill_stays_hidden(binance: RunningBinance, bot: Bot) -> tuple[str, int]:
    """Open a long, then close it while the close's answer is lost, lookups cannot see its fill and
    the position list lags 20 s: only the next close's -2022 refusal can prove it. Returns the
    intent and the venue's time when the refusal came."""
    record = await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    [position] = bot.repo.open_positions()
    await asyncio.sleep(30)
    binance.faults.add(Fault("close answer lost", RestTarget("POST", "/fapi/v1/order"), DropAfterApply(), OnCall(1)))
    binance.faults.add(Fault("close unseen", QueryTarget("orders"), VisibilityLag(ms=4_000)))
    binance.faults.add(Fault("stale list", QueryTarget("positions"), PositionLag(ms=20_000)))
    closed = await bot.opener.close(position.position_id)
    returned_ms = binance.engine.now_ms()
    assert not closed.is_open and held(binance) == []
    [flat] = [e for e in bot.repo.events(record.intent.intent_id) if e.kind == "flatten.flat"]
    assert flat.data["said_by"] == "refusal" and "-2022" in flat.data["error"]
    return record.intent.intent_id, returned_ms


async def test_a_refusal_without_a_time_is_stamped_with_the_venues_clock(binance: RunningBinance, bot: Bot) -> None:
    # The Binance twin of the Bybit seed-23 finding (dropped-closes-lagging-reads-binance): -2022 carries
    # no time, so the bot reads the venue's clock. The list, still showing the long as it was before
    # the close, is then not adopted back.
    started = binance.engine.now_ms()
    _, returned = await _close_whose_fill_stays_hidden(binance, bot)
    refused = bot.repo.venue_closes()["TOWNS/USDT:USDT"]
    assert refused.side is Side.LONG and started < refused.venue_ms <= returned
    assert [p.side for p in await bot.venue.positions()] == [Side.LONG]  # the lagging list
    assert await bot.sync.cycle() == []
    # A long opened after the refusal is real: the list shows it changed since, and it is adopted.
    binance.faults.clear()
    await binance.rest_client().create_order(TOWNS, "market", "buy", 1000)
    assert [type(a).__name__ for a in await bot.sync.cycle()] == ["Adopt", "PlaceStop"]


@pytest.mark.parametrize(("effect", "said_by"), [
    # Every time: aiohttp sends a GET dropped on a reused connection once more by itself.
    (DropBeforeApply(), "server time: ExchangeNotAvailable"),
    # Not the venue's: a venue 2100 years ahead would have refused the signed close.
    (HttpAnswer(200, '{"serverTime": 4102444800000}', "application/json"), "server time"),
])
async def test_without_a_venue_time_the_refusal_is_stamped_with_the_latest_it_can_have_been(
    binance: RunningBinance, bot: Bot, effect: Any, said_by: str
) -> None:
    binance.faults.add(Fault("no clock", RestTarget("GET", "/fapi/v1/time"), effect, OnCall(1, 100)))
    intent_id, returned = await _close_whose_fill_stays_hidden(binance, bot)
    [local] = [e for e in bot.repo.events(intent_id) if e.kind == "flatten.close_time_local"]
    assert local.data["said_by"].startswith(said_by)
    # Our clock plus the receive window ccxt signs with: the venue cannot have refused any later.
    refused = bot.repo.venue_closes()["TOWNS/USDT:USDT"]
    assert refused.venue_ms == local.data["used_ms"] and returned < refused.venue_ms <= returned + 10_000
    assert [p.side for p in await bot.venue.positions()] == [Side.LONG]  # the lagging list, still not adopted
    assert await bot.sync.cycle() == []


async def test_a_stop_that_fired_is_closed_out_at_the_next_pass_from_its_algo_push(
    binance: RunningBinance, bot: Bot
) -> None:
    await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    [opened] = bot.repo.open_positions()
    binance.engine.set_price("TOWNSUSDT", "0.02900")  # through the 0.03057 stop
    await asyncio.sleep(0.5)
    pushed = bot.venue.pushed(opened.stop_order_id, opened.stop_client_id)
    assert pushed is not None and pushed.filled == QTY  # ALGO_UPDATE FINISHED: "aq"

    [closed] = await bot.sync.cycle()

    assert isinstance(closed, CloseOut) and "its stop filled" in closed.reason


async def test_a_stop_that_fired_unheard_is_found_filled_from_its_algo_order_and_the_trades(
    binance: RunningBinance, bot: Bot
) -> None:
    # Found by the fuzzer (seed 59): the stream dropped, the stop fired, and the bot put a new stop
    # under the vanished position. Binance documents no executed quantity on an algo order: what its
    # order executed is the exit-side fills since it triggered.
    await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    [opened] = bot.repo.open_positions()
    assert opened.stop_order_id is not None
    binance.faults.add(Fault("pushes lost", StreamTarget("/private/ws"), DropFrame(), OnCall(1, 100)))
    binance.engine.set_price("TOWNSUSDT", "0.02900")  # through the 0.03057 stop
    await asyncio.sleep(0.5)

    outcome = await bot.venue.stop_outcome(TOWNS, opened.stop_order_id)

    assert outcome is not None and (outcome.filled, outcome.source) == (QTY, "trades")
    [closed] = await bot.sync.cycle()
    assert isinstance(closed, CloseOut) and "its stop filled" in closed.reason
    assert closed.venue_close is not None and closed.venue_close.venue_ms == outcome.updated_ms


async def test_a_fired_stops_fill_is_read_from_its_own_trades_only(binance: RunningBinance, bot: Bot) -> None:
    # Trades on the symbol after the stop's own fill (someone else's) move neither its amount nor its
    # time, and a buy after the trigger is no exit.
    await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    [opened] = bot.repo.open_positions()
    assert opened.stop_order_id is not None
    binance.faults.add(Fault("pushes lost", StreamTarget("/private/ws"), DropFrame(), OnCall(1, 100)))
    binance.engine.set_price("TOWNSUSDT", "0.02900")  # through the 0.03057 stop
    fired_ms = binance.engine.now_ms()
    await asyncio.sleep(5)
    outsider = binance.rest_client()
    await outsider.create_order(TOWNS, "market", "sell", 200)  # a short of someone's, 5 s later
    await outsider.create_order(TOWNS, "market", "buy", 200)

    outcome = await bot.venue.stop_outcome(TOWNS, opened.stop_order_id)

    assert outcome is not None and (outcome.filled, outcome.updated_ms) == (QTY, fired_ms)


async def test_fills_before_the_trigger_are_not_the_stops(binance: RunningBinance, bot: Bot) -> None:
    await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    [opened] = bot.repo.open_positions()
    assert opened.stop_order_id is not None
    binance.faults.add(Fault("pushes lost", StreamTarget("/private/ws"), DropFrame(), OnCall(1, 100)))
    await binance.rest_client().create_order(TOWNS, "market", "sell", 400, None, {"reduceOnly": True})
    await asyncio.sleep(1)
    binance.engine.set_price("TOWNSUSDT", "0.02900")  # the stop takes the 600 left

    outcome = await bot.venue.stop_outcome(TOWNS, opened.stop_order_id)

    assert outcome is not None and outcome.filled == Decimal(600)  # not the whole 1000: no evidence
    actions = await bot.sync.cycle()
    assert not any(isinstance(a, CloseOut) and "its stop filled" in a.reason for a in actions)


async def test_a_rate_limited_pass_asks_the_venue_nothing_more(binance: RunningBinance, bot: Bot) -> None:
    # From a review: the failed pass's fallback queried every recorded stop, each refused again, and
    # with five positions two throttled passes got the IP banned.
    await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    await bot.opener.open("BTC/USDT:USDT", Side.LONG, Decimal("0.002"), STOP)
    binance.faults.add(Fault("limited", RestTarget("GET", "/fapi/v3/positionRisk"),
                             HttpAnswer(429, '{"code":-1003,"msg":"Too many requests."}', "application/json"),
                             OnCall(1, 100)))
    weight = binance.venue.limiter.used_weight("127.0.0.1", binance.engine.now_ms())

    with pytest.raises(Throttled):
        await bot.sync.cycle()

    assert binance.venue.limiter.used_weight("127.0.0.1", binance.engine.now_ms()) == weight  # nothing more sent
    assert len(bot.repo.open_positions()) == 2


async def test_a_failing_venue_is_asked_about_one_stop_only(binance: RunningBinance, bot: Bot) -> None:
    await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    await bot.opener.open("BTC/USDT:USDT", Side.LONG, Decimal("0.002"), STOP)
    for path in ("/fapi/v3/positionRisk", "/fapi/v1/algoOrder"):
        binance.faults.add(Fault(f"{path} down", RestTarget("GET", path), DropBeforeApply(), OnCall(1, 100)))

    with pytest.raises(RetryLater):
        await bot.sync.cycle()

    assert [e.kind for e in bot.repo.events() if e.kind.startswith("sync.")] == ["sync.stop_unread"]


async def test_a_cancelled_algo_stop_reports_nothing_filled(binance: RunningBinance, bot: Bot) -> None:
    await bot.opener.open(TOWNS, Side.LONG, QTY, STOP)
    [opened] = bot.repo.open_positions()
    assert opened.stop_order_id is not None
    await bot.venue.cancel(TOWNS, opened.stop_order_id, stop=True)

    outcome = await bot.venue.stop_outcome(TOWNS, opened.stop_order_id)

    assert outcome is not None and outcome.status is OrderStatus.CANCELED and outcome.filled == 0
    assert [type(a).__name__ for a in await bot.sync.cycle()] == ["PlaceStop"]  # the long stays, protected anew


def test_an_algo_push_counts_only_what_its_order_in_the_book_executed() -> None:
    # ccxt reads no fill from ALGO_UPDATE and takes a closed algo order (TRIGGERED, FINISHED) as
    # wholly filled; the bot reads "aq", so a stop only just placed in the book has filled nothing.
    triggered = {"id": "2834283", "clientOrderId": "hb1-s", "symbol": TOWNS, "side": "sell", "status": "closed",
                 "amount": 1000.0, "filled": 1000.0, "reduceOnly": True,
                 "info": {"aid": 2834283, "X": "TRIGGERED", "ai": "4869373026", "aq": "0", "ap": "0.00000"}}
    report = order_report(triggered, "push")
    assert report is not None and report.filled == 0
    finished = {**triggered, "info": {**triggered["info"], "X": "FINISHED", "aq": "1000"}}
    assert order_report(finished, "push").filled == 1000  # type: ignore[union-attr]
    untriggered = {**triggered, "status": "open", "filled": None, "info": {"aid": 2834283, "X": "NEW", "ai": ""}}
    assert order_report(untriggered, "push").filled == 0  # type: ignore[union-attr]


async def test_the_synchronizer_adopts_and_protects_a_phantom(binance: RunningBinance, bot: Bot) -> None:
    outsider = binance.rest_client()
    await outsider.load_markets()
    await outsider.create_order(TOWNS, "market", "buy", 1000)

    actions = await bot.sync.cycle()

    assert [type(a).__name__ for a in actions] == ["Adopt", "PlaceStop"]
    [stop] = await bot.venue.open_stops()
    assert (stop.side, stop.trigger_price) == ("sell", Decimal("0.03057"))
    assert await bot.sync.cycle() == []


async def test_the_order_stream_still_hears_pushes_after_hours_idle(binance: RunningBinance, bot: Bot) -> None:
    # ccxt.pro renews a listen key once and then only when watch_orders is called again (ccxt#6760):
    # a stream left waiting would go deaf at 80 minutes and every confirmation fall back to REST.
    await asyncio.sleep(3 * 3600)
    binance.faults.add(Fault("entry answer lost", RestTarget("POST", "/fapi/v1/order"), DropAfterApply()))

    record = await bot.opener.open(TOWNS, Side.SHORT, QTY, STOP)

    assert record.state is IntentState.OPEN
    assert source(bot, record.intent.intent_id) == "push"
    assert binance.venue.listen_keys.live(binance.account.account_id, binance.engine.now_ms()) is not None


async def test_the_bot_runs_unchanged_on_binances_real_urls(simulation: Simulation, tmp_path: Path) -> None:
    # Only the session differs from production: Binance's host names resolve to the local venue.
    async with serve_binance(engine=binance_engine(clock=simulation.clock, seed=1), tls=True) as running:
        session = real_url_session(BINANCE_HOSTS, int(running.base_url.rsplit(":", 1)[1]))
        clock, rng = SystemClock(), random.Random(1)
        venue = BinanceVenue(api_key=running.api_key, secret=running.api_secret, client_options={"session": session})
        repo = Repository.open(str(tmp_path / "bot.sqlite3"), clock)
        opener = PositionOpener(venue, repo, clock=clock, rng=rng)
        try:
            await venue.start()
            await asyncio.wait_for(running.venue.streams.wait_listening(running.account.account_id), 10)
            refused = await opener.open(TOWNS, Side.LONG, Decimal(4_000_000), STOP)
            opened = await opener.open(TOWNS, Side.SHORT, QTY, STOP)

            assert refused.state is IntentState.ENTRY_FAILED and "-2019" in (refused.reason or "")
            assert opened.state is IntentState.OPEN
            assert held(running) == [("TOWNSUSDT", Decimal(-1000))]
            [stop] = await venue.open_stops()
            assert stop.client_order_id == opened.intent.intent_id + "-s"
        finally:
            await venue.close()
            repo.close()
            await session.close()
        assert not running.venue.internal_errors, running.venue.internal_errors


async def test_open_stops_are_read_per_symbol_between_full_scans(simulation: Simulation, tmp_path: Path) -> None:
    # Across every symbol Binance charges weight 40 (ccxt then holds the next call 2 s); per symbol, 1.
    async with simulation.serve_binance() as running:
        made = Bot(running, tmp_path / "bot.sqlite3")
        await made.venue.start()
        try:
            record = await made.opener.open(TOWNS, Side.SHORT, QTY, STOP)
            outsider = running.rest_client()
            await outsider.load_markets()
            await outsider.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
            await outsider.create_order("BTC/USDT:USDT", "market", "sell", 0.01, None,
                                        {"stopLossPrice": 50000, "reduceOnly": True, "clientOrderId": "hb-stray-s"})

            def reads() -> list[str]:
                return [str(r.fields["query"]) for r in simulation.trace.records
                        if r.kind == "rest.request" and r.fields["path"] == "/fapi/v1/openAlgoOrders"]

            await made.venue.positions()
            first = await made.venue.open_stops()  # the first read is a full scan: every symbol's stops
            await made.venue.positions()
            second = await made.venue.open_stops()  # then only the symbols that can hold ours
            await asyncio.sleep(600)
            await made.venue.positions()
            third = await made.venue.open_stops()  # ten minutes on, every symbol again

            assert {s.symbol for s in first} == {TOWNS, "BTC/USDT:USDT"} == {s.symbol for s in third}
            assert {s.symbol for s in second} == {TOWNS, "BTC/USDT:USDT"}  # held, or a stop seen before
            queries = reads()
            assert ["symbol=" in q for q in queries] == [False, True, True, False]
            assert record.intent.intent_id + "-s" in {s.client_order_id for s in second}
        finally:
            await made.venue.close()
            made.repo.close()


async def test_a_stop_hidden_from_one_per_symbol_read_stays_in_sight(simulation: Simulation, tmp_path: Path) -> None:
    async with simulation.serve_binance() as running:
        made = Bot(running, tmp_path / "bot.sqlite3")
        await made.venue.start()
        try:
            await made.opener.open(TOWNS, Side.SHORT, QTY, STOP)
            await made.venue.positions()
            [stop] = await made.venue.open_stops()  # the full scan
            outsider = running.rest_client()
            await outsider.load_markets()
            await outsider.create_order(TOWNS, "market", "buy", 1000, None, {"reduceOnly": True})  # the stop is an orphan now
            running.faults.add(Fault("read side lags", QueryTarget("orders"), VisibilityLag(ms=5_000)))

            await made.venue.positions()
            hidden = await made.venue.open_stops()  # the venue's lagging read side hides it once
            await asyncio.sleep(10)
            await made.venue.positions()
            again = await made.venue.open_stops()  # still read: its symbol was not forgotten

            assert (hidden, [s.venue_order_id for s in again]) == ([], [stop.venue_order_id])
        finally:
            await made.venue.close()
            made.repo.close()


async def test_a_position_on_a_symbol_listed_after_start_makes_the_read_a_full_scan(
    simulation: Simulation, tmp_path: Path,
) -> None:
    async with simulation.serve_binance() as running:
        made = Bot(running, tmp_path / "bot.sqlite3")
        await made.venue.start()
        try:
            await made.venue.positions()
            await made.venue.open_stops()  # the first full scan
            instrument = dataclasses.replace(running.engine.instrument("NILUSDT"), symbol=SimSymbol("NEWUSDT"),
                                         base_coin="NEW")
            running.engine.add_instrument(instrument, Decimal("1.0000"))
            outsider = running.rest_client()
            await outsider.load_markets()
            await outsider.create_order("NEW/USDT:USDT", "market", "buy", 100)

            held = await made.venue.positions()  # named by the venue's id: ccxt has no market for it yet
            stops = await made.venue.open_stops()  # no BadSymbol: every symbol's stops are read instead

            assert [p.size for p in held if p.size] == [Decimal(100)] and stops == []
        finally:
            await made.venue.close()
            made.repo.close()
