"""Amending an open order in place: the same ids, a new quantity, limit price or trigger price."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.instruments import Instrument
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.validation import check_min_notional, check_price, check_qty, check_trigger
from simulator.engine.values import OrderStatus, OrderType

# A triggered conditional order is on its way to the book: too late to replace, as for a closed one.
AMENDABLE = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED})


@dataclass(frozen=True, slots=True, kw_only=True)
class Amendment:
    """What a client asked to change; None leaves a field as it is."""

    qty: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None


def amended(order: Order, change: Amendment, inst: Instrument, last: Decimal, *, ms: int) -> Order:
    """``order`` with ``change`` applied, after the checks the venue makes before it accepts one.

    Raises ``Rejection``: nothing is changed by a refused amendment.
    """
    if order.is_position_tpsl:
        raise Rejection(RejectReason.AMEND_UNSUPPORTED, what="amending a position's TP/SL order (use trading-stop)")
    if change.price is not None and order.order_type is not OrderType.LIMIT:
        raise Rejection(RejectReason.AMEND_UNSUPPORTED, what="a price for a market order")
    if change.trigger_price is not None and not order.is_conditional:
        raise Rejection(RejectReason.AMEND_UNSUPPORTED, what="a trigger price for an order that has none")
    qty = order.qty if change.qty is None else change.qty
    price = order.price if change.price is None else change.price
    trigger = order.trigger_price if change.trigger_price is None else change.trigger_price
    if (qty, price, trigger) == (order.qty, order.price, order.trigger_price):
        raise Rejection(RejectReason.ORDER_NOT_MODIFIED, order_id=order.order_id)
    request = OrderRequest(symbol=order.symbol, side=order.side, order_type=order.order_type, qty=qty,
                           price=price if order.order_type is OrderType.LIMIT else None,
                           reduce_only=order.reduce_only, trigger_price=trigger,
                           trigger_direction=order.trigger_direction)
    if change.qty is not None:
        check_qty(request, inst)
        if qty < order.filled_qty:
            raise Rejection(RejectReason.QTY_BELOW_FILLED, qty=qty, filled_qty=order.filled_qty)
    if change.price is not None:
        check_price(price, inst)
    if change.trigger_price is not None:
        check_price(trigger, inst)  # type: ignore[arg-type]
        check_trigger(request, last)
    reference = price if order.order_type is OrderType.LIMIT else trigger if trigger is not None else last
    check_min_notional(request, inst, reference)
    fields: dict[str, object] = {"qty": qty, "price": price, "trigger_price": trigger, "updated_ms": ms}
    if qty == order.filled_qty:  # cut down to what already filled: nothing is left to work
        return order.transition(OrderStatus.FILLED, ms=ms, qty=qty)
    return dataclasses.replace(order, **fields)  # type: ignore[arg-type]
