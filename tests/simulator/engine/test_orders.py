from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.engine import (
    AccountId,
    Order,
    OrderStatus,
    OrderType,
    Side,
    Symbol,
    TimeInForce,
    VenueOrderId,
)
from simulator.engine.orders import TRANSITIONS, InvalidTransition


def _order(status: OrderStatus = OrderStatus.NEW, qty: str = "1") -> Order:
    return Order(
        order_id=VenueOrderId("o-1"), client_order_id=None, account_id=AccountId("a"), symbol=Symbol("BTCUSDT"),
        side=Side.BUY, order_type=OrderType.LIMIT, price=Decimal(100), qty=Decimal(qty),
        time_in_force=TimeInForce.GTC, status=status, created_ms=1, updated_ms=1, last_price_on_created=Decimal(100),
    )


def test_closed_statuses_have_no_way_out() -> None:
    closed = {s for s in OrderStatus if not s.is_open}
    assert not [edge for edge in TRANSITIONS if edge[0] in closed]


@pytest.mark.parametrize("to", [OrderStatus.UNTRIGGERED, OrderStatus.TRIGGERED, OrderStatus.NEW])
def test_a_new_order_cannot_move_backwards(to: OrderStatus) -> None:
    with pytest.raises(InvalidTransition, match="NEW -> "):
        _order().transition(to, ms=2)


def test_fills_accumulate_and_complete_the_order() -> None:
    part = _order(qty="3").with_fill(Decimal(1), Decimal(100), Decimal("0.05"), ms=2)
    assert (part.status, part.leaves_qty, part.updated_ms) == (OrderStatus.PARTIALLY_FILLED, 2, 2)
    done = part.with_fill(Decimal(2), Decimal(103), Decimal("0.1"), ms=3)
    assert done.status is OrderStatus.FILLED
    assert done.avg_price == Decimal(102)
    assert done.cum_exec_fee == Decimal("0.15")
    assert done.leaves_qty == 0


def test_a_fill_beyond_the_order_qty_is_refused() -> None:
    with pytest.raises(ValueError, match="would exceed qty 1"):
        _order().with_fill(Decimal(2), Decimal(100), Decimal(0), ms=2)
