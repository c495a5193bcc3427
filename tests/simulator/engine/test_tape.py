"""Candles from an instrument's price and trade history: exact, since prices move only when moved."""

from __future__ import annotations

from decimal import Decimal as D

from simulator.engine.tape import Tape

MIN = 60_000


def test_a_candle_opens_at_the_standing_price_and_takes_the_moves_and_trades_inside_it() -> None:
    tape = Tape(since_ms=30_000, price=D(100))  # listed half-way through the first minute
    tape.moved(45_000, D(103))
    tape.traded(50_000, D(2), D(103), taker_buy=True)
    tape.moved(59_999, D(99))
    tape.moved(60_000, D(101))  # the next candle's open: a move exactly on the boundary belongs to it
    tape.traded(61_000, D(1), D(101), taker_buy=False)

    first, second, third = tape.candles(MIN, first_open_ms=0, last_open_ms=2 * MIN)

    assert (first.open_ms, first.open, first.high, first.low, first.close) == (0, D(100), D(103), D(99), D(99))
    assert (first.volume, first.turnover, first.trades, first.taker_buy_volume) == (D(2), D(206), 1, D(2))
    assert (second.open, second.high, second.low, second.close, second.volume, second.taker_buy_volume) == \
        (D(101), D(101), D(101), D(101), D(1), D(0))
    assert (third.open, third.close, third.volume, third.trades) == (D(101), D(101), D(0), 0)  # flat, nothing traded


def test_no_candle_opens_before_the_one_the_listing_falls_in() -> None:
    tape = Tape(since_ms=10 * MIN + 5, price=D(7))

    candles = tape.candles(MIN, first_open_ms=5 * MIN, last_open_ms=11 * MIN)

    assert [c.open_ms for c in candles] == [10 * MIN, 11 * MIN]
    assert tape.candles(MIN, first_open_ms=0, last_open_ms=9 * MIN) == []
