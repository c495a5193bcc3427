from __future__ import annotations

from decimal import Decimal as D

import pytest

from simulator.engine import AccountId, Position, Side, Symbol
from simulator.engine.positions import apply_fill


def _flat() -> Position:
    return Position(account_id=AccountId("a"), symbol=Symbol("BTCUSDT"), leverage=D(10), created_ms=0, updated_ms=0)


def test_opening_and_adding_averages_the_entry() -> None:
    first = apply_fill(_flat(), Side.BUY, D(1), D(100), D(0), ms=1, seq=1).position
    second = apply_fill(first, Side.BUY, D(3), D(120), D(0), ms=2, seq=2).position
    assert (second.size, second.entry_price, second.created_ms) == (D(4), D(115), 1)


def test_reducing_a_short_realises_pnl_and_keeps_the_entry() -> None:
    short = apply_fill(_flat(), Side.SELL, D(2), D(100), D("0.1"), ms=1, seq=1).position
    out = apply_fill(short, Side.BUY, D(1), D(90), D("0.05"), ms=2, seq=2)
    assert out.realised_gross == D(10)
    assert out.closed_qty == D(1)
    assert (out.position.size, out.position.entry_price) == (D(-1), D(100))
    assert out.position.cum_realised_pnl == D(10) - D("0.15")


def test_closing_clears_entry_and_tpsl() -> None:
    long = apply_fill(_flat(), Side.BUY, D(1), D(100), D(0), ms=1, seq=1).position
    import dataclasses

    guarded = dataclasses.replace(long, stop_loss=D(90), take_profit=D(110))
    out = apply_fill(guarded, Side.SELL, D(1), D(95), D(0), ms=2, seq=2)
    assert out.position.is_flat and out.position.entry_price == 0
    assert (out.position.stop_loss, out.position.take_profit) == (None, None)
    assert out.realised_gross == D(-5)


def test_flipping_opens_the_remainder_at_the_fill_price() -> None:
    import dataclasses

    long = dataclasses.replace(
        apply_fill(_flat(), Side.BUY, D(1), D(100), D(0), ms=1, seq=1).position, stop_loss=D(90)
    )
    out = apply_fill(long, Side.SELL, D(3), D(110), D(0), ms=2, seq=2)
    assert (out.position.size, out.position.entry_price, out.closed_qty) == (D(-2), D(110), D(1))
    assert out.position.stop_loss is None


def test_a_fill_needs_a_positive_qty() -> None:
    with pytest.raises(ValueError, match="positive qty, was 0"):
        apply_fill(_flat(), Side.BUY, D(0), D(100), D(0), ms=1, seq=1)
