"""The order book a venue shows, and the rolling 24 hours its tickers report."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from simulator.clock import ManualClock
from simulator.engine import Account, Engine, Side, TriggerDirection
from simulator.engine.book import book
from tests.simulator.engine.helpers import limit, market, stop_market

HOUR = 3_600_000


def test_the_book_is_the_one_tick_spread_around_the_last_price_with_nominal_depth(engine: Engine) -> None:
    shown = engine.book("BTCUSDT", 3)
    nominal = engine.instrument("BTCUSDT").max_market_qty
    assert shown.asks == ((D("60000.0"), nominal), (D("60000.1"), nominal), (D("60000.2"), nominal))
    assert shown.bids == ((D("59999.9"), nominal), (D("59999.8"), nominal), (D("59999.7"), nominal))


def test_resting_limit_orders_add_to_their_levels_and_leave_with_their_fills(engine: Engine, account: Account) -> None:
    nominal = engine.instrument("BTCUSDT").max_market_qty
    buy = engine.place_order(account.account_id, limit("BTCUSDT", Side.BUY, "0.5", "59999.8"))
    engine.place_order(account.account_id, limit("BTCUSDT", Side.SELL, "0.25", "60000.1"))
    engine.place_order(account.account_id, limit("BTCUSDT", Side.BUY, "0.1", "50000.0"))  # beyond the depth asked
    # A stop still waiting for its trigger is not in the book.
    engine.place_order(account.account_id, market("BTCUSDT", Side.BUY, "0.01"))
    engine.place_order(account.account_id, stop_market("BTCUSDT", Side.SELL, "0.01", "59999.9",
                                                       TriggerDirection.FALLS_TO, reduce_only=True))
    shown = engine.book("BTCUSDT", 3)
    assert shown.bids[1] == (D("59999.8"), nominal + D("0.5"))
    assert shown.asks[1] == (D("60000.1"), nominal + D("0.25"))
    assert shown.bids[0] == (D("59999.9"), nominal)
    before = engine.book_seq("BTCUSDT")

    engine.set_price("BTCUSDT", "59999.8")  # the buy fills; the stop fires too

    after = engine.book("BTCUSDT", 2)
    assert after.bids == ((D("59999.7"), nominal), (D("59999.6"), nominal))
    assert after.asks[0] == (D("59999.8"), nominal)
    assert engine.orders.get(buy.order_id).status.name == "FILLED"  # type: ignore[union-attr]
    assert engine.book_seq("BTCUSDT") > before


def test_no_level_lies_past_the_price_filter(engine: Engine) -> None:
    inst = engine.instrument("GIGAUSDT")
    shown = book(inst, inst.min_price, [], depth=5)
    assert shown.bids == ((inst.min_price, inst.max_market_qty),)  # at the minimum a bid there still shows
    assert len(shown.asks) == 5
    top = book(inst, inst.max_price - inst.tick_size, [], depth=5)
    assert top.asks == ((inst.max_price - inst.tick_size, inst.max_market_qty), (inst.max_price, inst.max_market_qty))
    assert book(inst, inst.max_price, [], depth=5).asks == ((inst.max_price, inst.max_market_qty),)
    with pytest.raises(ValueError, match="depth=0"):
        book(inst, inst.min_price, [], depth=0)


def test_the_day_rolls_moves_and_trades_older_than_24_hours_drop_out(engine: Engine, account: Account,
                                                                     clock: ManualClock) -> None:
    clock.advance_ms(1)  # a move at the listing instant would replace the listing price
    engine.set_price("ETHUSDT", "3300")
    engine.place_order(account.account_id, market("ETHUSDT", Side.BUY, "1"))
    clock.advance_ms(HOUR)
    engine.set_price("ETHUSDT", "2900")
    day = engine.day("ETHUSDT")
    assert (day.open, day.high, day.low, day.volume, day.turnover, day.trades) == \
        (D(3000), D(3300), D(2900), D(1), D(3300), 1)  # listed less than a day ago: opens at the listing
    assert engine.tape("ETHUSDT").price_at(engine.now_ms() - HOUR) == D(3300)
    assert engine.tape("ETHUSDT").price_at(engine.now_ms() - HOUR - 1) == D(3000)  # the listing price, before

    clock.advance_ms(23 * HOUR)  # the move to 3300 and the fill are exactly 24 h old: still in
    day = engine.day("ETHUSDT")
    assert (day.open, day.volume) == (D(3300), D(1))
    clock.advance_ms(1)
    day = engine.day("ETHUSDT")
    assert (day.open, day.high, day.low, day.volume, day.trades) == (D(3300), D(3300), D(2900), D(0), 0)
    clock.advance_ms(HOUR)  # the window now opens after the move to 2900
    day = engine.day("ETHUSDT")
    assert (day.open, day.high, day.low) == (D(2900), D(2900), D(2900))


def test_a_move_at_the_listing_instant_keeps_the_listing_price_when_an_order_rests(engine: Engine,
                                                                                  account: Account) -> None:
    # The sell rested at 61000 while 60000 stood; the jump to 62000 fills it at its own price, so
    # 60000 and 61000 both belong in the candle (the listing price was not a price that never stood).
    engine.place_order(account.account_id, limit("BTCUSDT", Side.SELL, "0.01", "61000.0"))
    engine.set_price("BTCUSDT", "62000.0")
    [candle] = engine.tape("BTCUSDT").query(60_000, now_ms=engine.now_ms(), start_ms=None, end_ms=None, limit=1)
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == \
        (D("60000.0"), D("62000.0"), D("60000.0"), D("62000.0"), D("0.01"))
