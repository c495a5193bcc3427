"""The runner's session: steps that break the run are reported, never hung on, and the world is closed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from scenarios.model import ScenarioError, parse
from scenarios.runner import StepHung, replay

HEAD = """
id = "x"
title = "t"
story = "s"
venue = "bybit"
duration_ms = 200000
convergence_ms = 60000
"""


def scenario(actions: str):  # noqa: ANN201 - a Scenario
    return parse(tomllib.loads(HEAD + actions), Path("x.toml"))


def test_a_restart_against_a_stream_that_never_answers_auth_still_completes() -> None:
    # The venue drops every private frame from here on, the auth reply included: the restarted bot
    # cannot subscribe, waits a bounded time, and carries on over REST.
    verdict = replay(scenario("""
[[action]]
at_ms = 0
do = "fault"
fault = { name = "deaf", stream = "/v5/private", effect = "drop-frame", start_ms = 0, end_ms = 10000000 }

[[action]]
at_ms = 1000
do = "restart"

[[action]]
at_ms = 60000
do = "open"
symbol = "GIGA/USDT:USDT"
side = "short"
qty = "920"
"""), "bot")

    assert verdict.passed, verdict.violations
    assert verdict.final_venue == verdict.final_database == (("GIGA/USDT:USDT", "short", 920),)


def test_a_subject_that_never_comes_back_fails_the_run_loudly() -> None:
    with pytest.raises(StepHung, match="step 'restart' at 1000 ms was still busy 600 s"):
        replay(scenario('\n[[action]]\nat_ms = 1000\ndo = "restart"\n'), "tests.scenarios.user_subject:make_hanging")


def test_the_timeline_shows_a_user_subjects_own_events_and_our_journal_under_any_name() -> None:
    opens = '\n[[action]]\nat_ms = 0\ndo = "open"\nsymbol = "GIGA/USDT:USDT"\nside = "short"\nqty = "920"\n'

    noting = replay(scenario(opens), "tests.scenarios.user_subject:make_noting").timeline
    renamed = replay(scenario(opens), "tests.scenarios.user_subject:make").timeline

    assert any(" naive     opened  symbol=GIGA/USDT:USDT ok=True note=None" in line for line in noting)
    for timeline in (noting, renamed):  # our bot's journal, whatever the subject is called
        assert any(" bot       intent.open " in line for line in timeline), "\n".join(timeline)
        assert not any(" bot       order.sending" in line for line in timeline)  # the journal stays filtered


def test_a_price_step_on_an_unlisted_symbol_is_refused_with_the_listed_ones() -> None:
    with pytest.raises(ScenarioError, match=r"price step at 10 ms.*lists \['BTCUSDT', 'ETHUSDT', 'GIGAUSDT'\]"):
        replay(scenario('\n[[action]]\nat_ms = 10\ndo = "price"\nsymbol = "NOPEUSDT"\nprice = "1"\n'), "bot")


def test_the_scenarios_closed_order_window_reaches_the_venue(tmp_path: Path) -> None:
    from scenarios.runner import Session
    from simulator.simulation import simulation

    with simulation(seed=0) as sim:
        session = Session(sim, parse(tomllib.loads("closed_order_window = 0\n" + HEAD), Path("x.toml")), "bot",
                          tmp_path)
        try:
            session.begin()
            assert session.run.venue.engine.orders.closed_window == 0
        finally:
            session.close()


def test_a_stop_taken_off_and_put_back_within_the_second_is_still_seen(tmp_path: Path) -> None:
    # The monitor samples every second; the engine's own changes are looked at as they happen.
    from scenarios.model import step
    from scenarios.runner import Session
    from simulator.engine.orders import OrderRequest
    from simulator.simulation import simulation

    with simulation(seed=0) as sim:
        session = Session(sim, scenario(""), "bot", tmp_path)
        try:
            session.begin()
            session.apply(step({"at_ms": 0, "do": "open", "symbol": "GIGA/USDT:USDT", "side": "short", "qty": "920"},
                               "open"))
            session.apply(step({"at_ms": 5000, "do": "wait"}, "wait"))
            engine, account = session.run.venue.engine, session.run.venue.account.account_id
            [stop] = [o for o in engine.orders.open_for(account) if o.trigger_price is not None]
            engine.cancel_order(account, str(stop.symbol), order_id=stop.order_id)
            again = OrderRequest(symbol=stop.symbol, side=stop.side, order_type=stop.order_type, qty=stop.qty,
                                 trigger_price=stop.trigger_price, trigger_direction=stop.trigger_direction,
                                 reduce_only=stop.reduce_only, close_on_trigger=stop.close_on_trigger)
            sim.loop.call_later(0.1, engine.place_order, account, again)  # back 100 ms later
            session.apply(step({"at_ms": 8000, "do": "wait"}, "wait"))
            verdict = session.end(20_000)
        finally:
            session.close()
    removed = [v for v in verdict.violations if v.invariant == "protection removed"]
    assert [(v.since_ms - verdict.start_ms) for v in removed] == [5000], verdict.violations


def test_cancel_all_asks_again_a_task_that_swallowed_its_cancellation() -> None:
    import asyncio

    from scenarios.runner import CANCEL_TRIES, cancel_all
    from virtualtime.runtime import run

    async def swallows_once() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # what asyncio.wait_for does when its result lands with the cancellation
        await asyncio.sleep(3600)

    async def refuses_long() -> None:
        for _ in range(CANCEL_TRIES + 1):  # one more than cancel_all asks
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    async def main() -> str:
        first = asyncio.ensure_future(swallows_once())
        await asyncio.sleep(0)
        await cancel_all([first])
        assert first.cancelled()
        stubborn = asyncio.ensure_future(refuses_long())
        await asyncio.sleep(0)
        try:
            await cancel_all([stubborn])
        except RuntimeError as error:
            stubborn.cancel()  # its last refusal: this one ends it
            return str(error)
        return "no error"

    assert run(main).startswith(f"1 task(s) still running after {CANCEL_TRIES} cancellations")


def test_a_failed_opens_exposure_is_still_judged_when_a_later_open_was_cancelled() -> None:
    # The known-bad flow leaves the first open's long unrecorded; a second open adds to it and is cut
    # short by a restart. Each form of the phantom lasts under the grace (its size changes), so only
    # the failure check sees it: a cancelled later open must not excuse it (only one in flight may).
    verdict = replay(scenario("""
[[action]]
at_ms = 0
do = "open"
symbol = "GIGA/USDT:USDT"
side = "long"
qty = "920"

[[action]]
at_ms = 30_000
do = "open"
symbol = "GIGA/USDT:USDT"
side = "long"
qty = "920"

[[action]]
at_ms = 31_000
do = "restart"

[[action]]
at_ms = 80_000
do = "sync"

[[action]]
at_ms = 85_000
do = "close"
symbol = "GIGA/USDT:USDT"
"""), "seed-flow")
    assert "reported failure left exposure" in {v.invariant for v in verdict.violations}


def test_the_funding_scenarios_start_where_funding_settles_inside_the_run() -> None:
    from scenarios.model import library

    for name in ("held-through-funding", "held-through-funding-binance"):
        verdict = replay(library()[name], "bot")
        assert verdict.passed, verdict.violations
        assert any(" funding " in line for line in verdict.timeline), name  # the payment happened in the run
