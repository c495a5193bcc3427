"""Funding: each open position pays or receives size x mark x rate at each funding instant."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scenarios import timeline
from scenarios.checks import ledger
from simulator.clock import ManualClock
from simulator.engine import Account, Engine, Executed, PositionChanged, Side, WalletChanged
from simulator.tracing import record_engine
from tests.simulator.engine.helpers import market
from virtualtime.trace import Trace

HOUR = 3_600_000


def test_a_long_pays_and_a_short_receives_at_each_instant_and_nothing_else_moves(engine: Engine, account: Account,
                                                                                 clock: ManualClock) -> None:
    other = engine.add_account(api_key="other", api_secret="s", balance=D(10_000))
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "2"))
    engine.place_order(other.account_id, market("ETHUSDT", Side.SELL, "1"))
    seen: list[object] = []
    engine.subscribe(seen.extend)
    before = engine.wallet(account.account_id).balance, engine.wallet(other.account_id).balance
    clock.advance_ms(8 * HOUR - 1)
    engine.funding.settle_due()
    assert not seen  # the clock started on an instant; the listing instant settles nothing, the next is at 8 h

    clock.advance_ms(1)
    engine.set_price("ETHUSDT", "3100")  # the mark at the instant is the price standing then
    seen.clear()
    engine.funding.settle_due()

    long_pay = D(2) * D(3100) * D("0.0001")
    assert engine.wallet(account.account_id).balance == before[0] - long_pay
    assert engine.wallet(other.account_id).balance == before[1] + long_pay / 2
    [paid] = [e.execution for e in seen if isinstance(e, Executed) and e.execution.account_id == account.account_id]
    assert (paid.exec_type, paid.qty, paid.price, paid.fee, paid.fee_rate, paid.side, paid.is_trade) == \
        ("Funding", D(2), D(3100), long_pay, D("0.0001"), Side.BUY, False)
    assert engine.position(account.account_id, "ETHUSDT").size == D(2)
    assert engine.position(account.account_id, "ETHUSDT").cum_realised_pnl < -long_pay  # the taker fee, then this
    assert any(isinstance(e, PositionChanged) for e in seen) and any(isinstance(e, WalletChanged) for e in seen)
    [settled] = engine.funding.history(engine.instrument("ETHUSDT").symbol)
    assert (settled.at_ms, settled.rate, settled.mark_price) == (engine.now_ms(), D("0.0001"), D(3100))
    executions = engine.orders.executions_for(account.account_id)
    assert ledger(executions, D(10_000), engine.wallet(account.account_id).balance, engine.now_ms()) == []


def test_instants_missed_settle_in_order_at_the_rate_set(engine: Engine, account: Account, clock: ManualClock) -> None:
    engine.place_order(account.account_id, market("BTCUSDT", Side.SELL, "0.1"))
    engine.set_funding_rate("BTCUSDT", "-0.0003")  # shorts pay a negative rate
    clock.advance_ms(24 * HOUR)
    assert engine.funding.next_due_ms() == engine.now_ms() - 16 * HOUR
    engine.funding.settle_due()
    payments = sorted((e for e in engine.orders.executions_for(account.account_id) if not e.is_trade), key=lambda e: e.seq)
    assert [p.exec_ms - engine.now_ms() for p in payments] == [-16 * HOUR, -8 * HOUR, 0]
    assert {p.fee for p in payments} == {D("0.1") * D(60000) * D("0.0003")}
    assert engine.market("BTCUSDT").funding_rate == D("-0.0003")
    assert engine.funding.next_due_ms() == engine.now_ms() + 8 * HOUR


def test_an_instant_is_paid_at_most_once_even_when_a_listener_raises(engine: Engine, account: Account,
                                                                     clock: ManualClock) -> None:
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "2"))
    broken = [True]

    def listener(batch: object) -> None:
        if broken:
            broken.clear()
            raise RuntimeError("a stream's renderer bug")

    engine.subscribe(listener)
    clock.advance_ms(8 * HOUR)
    with pytest.raises(RuntimeError):
        engine.funding.settle_due()  # what the venue's timer records as an internal error
    engine.funding.settle_due()  # and then asks again
    assert len([e for e in engine.orders.executions_for(account.account_id) if not e.is_trade]) == 1


def test_a_shorts_fee_rate_is_signed_so_the_fee_is_the_value_times_it(engine: Engine, account: Account,
                                                                       clock: ManualClock) -> None:
    engine.place_order(account.account_id, market("ETHUSDT", Side.SELL, "2"))
    clock.advance_ms(8 * HOUR)
    engine.funding.settle_due()
    [paid] = [e for e in engine.orders.executions_for(account.account_id) if not e.is_trade]
    assert (paid.fee_rate, paid.fee) == (D("-0.0001"), paid.value * D("-0.0001"))  # Bybit: Sell shows -rate


def test_the_timeline_tells_a_payment_from_a_fill(engine: Engine, account: Account, clock: ManualClock) -> None:
    trace = Trace(clock)
    record_engine(engine, trace, "bybit")
    start = engine.now_ms()
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "2"))
    clock.advance_ms(8 * HOUR)
    engine.funding.settle_due()
    shown = [line.split("bybit", 1)[1].strip() for line in timeline.lines(trace.records, start)]
    assert [line.split()[0] for line in shown] == ["fill", "funding"]
    assert shown[1] == "funding  Buy 2 ETHUSDT @ 3000.00  paid=0.600000"
