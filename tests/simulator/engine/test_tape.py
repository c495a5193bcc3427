"""Candles from an instrument's price and trade history: exact, since prices move only when moved."""

from __future__ import annotations

from decimal import Decimal as D

from simulator.engine.tape import Tape

MIN = 60_000


def test_a_candle_opens_at_the_standing_price_and_takes_the_moves_and_trades_inside_it() -> None:
    tape = Tape(since_ms=30_000, price=D(100))  # listed half-way through the first minute
    tape.moved(45_000, D(103))
    tape.traded(50_000, D(2), D(103), taker_buy=True, exec_id="e1")
    tape.moved(59_999, D(99))
    tape.moved(60_000, D(101))  # the next candle's open: a move exactly on the boundary belongs to it
    tape.traded(61_000, D(1), D(101), taker_buy=False, exec_id="e2")

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


def test_moves_at_one_instant_all_count_and_a_price_set_at_the_listing_replaces_it() -> None:
    tape = Tape(since_ms=0, price=D(60000))
    tape.moved(0, D(60500))  # set as the venue opened: the default listing price never stood
    tape.moved(MIN, D(61000))  # two moves on the next candle's opening instant, a fill between
    tape.traded(MIN, D(1), D(61000), taker_buy=True, exec_id="e3")
    tape.moved(MIN, D(60400))

    first, second = tape.candles(MIN, first_open_ms=0, last_open_ms=MIN)

    assert (first.open, first.high, first.low, first.close) == (D(60500),) * 4
    assert (second.open, second.high, second.low, second.close, second.volume) == \
        (D(61000), D(61000), D(60400), D(60400), D(1))


def test_a_query_from_before_the_listing_starts_at_it() -> None:
    tape = Tape(since_ms=10 * MIN + 5, price=D(7))

    from_zero = tape.query(MIN, now_ms=20 * MIN, start_ms=0, end_ms=None, limit=3)
    mid_candle = tape.query(MIN, now_ms=20 * MIN, start_ms=12 * MIN + 1, end_ms=None, limit=1)
    containing = tape.query(MIN, now_ms=20 * MIN, start_ms=12 * MIN + 1, end_ms=None, limit=1, from_containing=True)

    assert [c.open_ms for c in from_zero] == [10 * MIN, 11 * MIN, 12 * MIN]
    assert [c.open_ms for c in mid_candle] == [13 * MIN]  # Binance: candles opening from the start
    assert [c.open_ms for c in containing] == [12 * MIN]  # Bybit: the one the start falls in


def test_the_listing_price_is_replaced_only_before_anything_traded_and_only_once() -> None:
    traded_first = Tape(since_ms=0, price=D(100))
    traded_first.traded(0, D(1), D(100), taker_buy=True, exec_id="e4")
    traded_first.moved(0, D(120))
    twice = Tape(since_ms=0, price=D(100))
    twice.moved(0, D(120))
    twice.traded(0, D(1), D(120), taker_buy=True, exec_id="e5")
    twice.moved(0, D(110))

    [a] = traded_first.candles(MIN, first_open_ms=0, last_open_ms=0)
    [b] = twice.candles(MIN, first_open_ms=0, last_open_ms=0)

    assert (a.open, a.high, a.low, a.close) == (D(100), D(120), D(100), D(120))  # the fill at 100 stays inside
    assert (b.open, b.high, b.low, b.close) == (D(120), D(120), D(110), D(110))


def test_trades_are_sliced_by_index_before_anything_is_built() -> None:
    tape = Tape(since_ms=0, price=D(100))
    for n in range(5):
        tape.traded(n * 1000, D(n + 1), D(100), taker_buy=n % 2 == 0, exec_id=f"e{n}")
    span = tape.trade_span(1000, 3000)
    assert span == range(1, 4) and tape.trade_span() == range(0, 5)
    assert [t.exec_id for t in tape.trades(span[-2:])] == ["e2", "e3"]
    assert [(t.ms, t.qty, t.taker_buy) for t in tape.trades(tape.trade_span(4000))] == [(4000, D(5), True)]
    assert tape.exec_id_at(0) == "e0" and tape.trade_span(5000) == range(5, 5)
