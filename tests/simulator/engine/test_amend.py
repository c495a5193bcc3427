"""The amendment checks, on order values alone."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from simulator.catalog import default_instruments
from simulator.engine import AccountId, Order, OrderStatus, OrderType, Side, StopOrderType, Symbol, TimeInForce
from simulator.engine import VenueOrderId as Id
from simulator.engine.amend import Amendment, amended
from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.values import TriggerDirection

BTC = next(i for i, _ in default_instruments() if i.symbol == "BTCUSDT")
LAST = Decimal(60000)


def _limit(qty: str = "0.03", filled: str = "0", status: OrderStatus = OrderStatus.NEW) -> Order:
    return Order(order_id=Id("o-1"), client_order_id=None, account_id=AccountId("a"), symbol=Symbol("BTCUSDT"),
                 side=Side.BUY, order_type=OrderType.LIMIT, price=Decimal(59000), qty=Decimal(qty),
                 time_in_force=TimeInForce.GTC, status=status, created_ms=1, updated_ms=1, last_price_on_created=LAST,
                 filled_qty=Decimal(filled))


def _refused(order: Order, change: Amendment) -> RejectReason:
    with pytest.raises(Rejection) as refused:
        amended(order, change, BTC, LAST, ms=5)
    return refused.value.reason


def test_a_partly_filled_order_keeps_what_filled_and_can_be_cut_down_to_it() -> None:
    part = _limit(filled="0.01", status=OrderStatus.PARTIALLY_FILLED)

    bigger = amended(part, Amendment(qty=Decimal("0.05"), price=Decimal(59100)), BTC, LAST, ms=5)
    cut = amended(part, Amendment(qty=Decimal("0.01")), BTC, LAST, ms=5)

    assert (bigger.qty, bigger.price, bigger.filled_qty, bigger.status, bigger.updated_ms) == \
        (Decimal("0.05"), Decimal(59100), Decimal("0.01"), OrderStatus.PARTIALLY_FILLED, 5)
    assert (cut.status, cut.leaves_qty) == (OrderStatus.FILLED, 0)
    assert _refused(part, Amendment(qty=Decimal("0.005"))) in (RejectReason.QTY_BELOW_FILLED, RejectReason.QTY_BELOW_MIN)
    assert _refused(_limit(qty="0.05", filled="0.03", status=OrderStatus.PARTIALLY_FILLED),
                    Amendment(qty=Decimal("0.02"))) is RejectReason.QTY_BELOW_FILLED


def test_the_venue_checks_apply_to_the_new_values() -> None:
    order = _limit()
    assert _refused(order, Amendment(qty=Decimal("0.0105"))) is RejectReason.QTY_OFF_STEP
    assert _refused(order, Amendment(price=Decimal("59000.05"))) is RejectReason.PRICE_OFF_TICK
    assert _refused(order, Amendment(qty=Decimal("0.03"), price=Decimal(59000))) is RejectReason.ORDER_NOT_MODIFIED
    assert _refused(order, Amendment()) is RejectReason.ORDER_NOT_MODIFIED


def test_what_is_not_modelled_is_refused_by_name() -> None:
    market_stop = dataclasses.replace(_limit(status=OrderStatus.UNTRIGGERED), order_type=OrderType.MARKET,
                                      price=Decimal(0), trigger_price=Decimal(58000),
                                      trigger_direction=TriggerDirection.FALLS_TO)
    position_sl = dataclasses.replace(market_stop, stop_order_type=StopOrderType.STOP_LOSS)
    assert _refused(market_stop, Amendment(price=Decimal(57000))) is RejectReason.AMEND_UNSUPPORTED
    assert _refused(_limit(), Amendment(trigger_price=Decimal(58000))) is RejectReason.AMEND_UNSUPPORTED
    assert _refused(position_sl, Amendment(trigger_price=Decimal(57000))) is RejectReason.AMEND_UNSUPPORTED
    moved = amended(market_stop, Amendment(trigger_price=Decimal(57000)), BTC, LAST, ms=5)
    assert (moved.trigger_price, moved.status) == (Decimal(57000), OrderStatus.UNTRIGGERED)
    assert _refused(market_stop, Amendment(trigger_price=Decimal(60500))) is RejectReason.TRIGGER_NOT_BELOW_PRICE
