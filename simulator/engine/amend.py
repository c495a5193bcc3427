"""Amending an open order in place: the same ids, a new quantity, limit price or trigger price."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from simulator.engine.events import OrderChanged, WalletChanged
from simulator.engine.instruments import Instrument
from simulator.engine.margin import order_initial_margin
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.validation import check_min_notional, check_price, check_qty, check_tpsl, check_trigger
from simulator.engine.values import AccountId, ClientOrderId, OrderStatus, OrderType, VenueOrderId

if TYPE_CHECKING:
    from simulator.engine.venue import Engine

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
        raise Rejection(RejectReason.AMEND_UNSUPPORTED, what="amending a position's TP/SL order (use trading-stop)", parameter="orderId")
    if change.price is not None and order.order_type is not OrderType.LIMIT:
        raise Rejection(RejectReason.AMEND_UNSUPPORTED, what="a price for a market order", parameter="price")
    if change.trigger_price is not None and not order.is_conditional:
        raise Rejection(RejectReason.AMEND_UNSUPPORTED, what="a trigger price for an order that has none", parameter="triggerPrice")
    if change.trigger_price is not None and order.status is not OrderStatus.UNTRIGGERED:
        raise Rejection(RejectReason.AMEND_UNSUPPORTED, what="a trigger price for an order that has triggered", parameter="triggerPrice")
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
    # As at create: the order's own TP/SL must stay on the right sides of its new price (else the
    # fill would open a position whose TP/SL the venue cannot set).
    check_tpsl(order.side, reference, stop_loss=order.stop_loss, take_profit=order.take_profit)
    fields: dict[str, object] = {"qty": qty, "price": price, "trigger_price": trigger, "updated_ms": ms}
    if qty == order.filled_qty:  # cut down to what already filled: nothing is left to work
        return order.transition(OrderStatus.FILLED, ms=ms, qty=qty)
    return dataclasses.replace(order, **fields)  # type: ignore[arg-type]


def amend(engine: Engine, account_id: AccountId, symbol: str, change: Amendment, *,
          order_id: VenueOrderId | None, client_order_id: ClientOrderId | None) -> Order:
    """``Engine.amend_order``'s work, inside its batch: find the order, apply ``change`` under the
    create rules (reduce-only size, margin), announce it, and let the matcher see a new limit price."""
    inst = engine.instrument(symbol)
    order = engine.find_order(account_id, order_id=order_id, client_order_id=client_order_id)
    if order is None or order.symbol != inst.symbol or order.status not in AMENDABLE:
        raise Rejection(RejectReason.ORDER_NOT_FOUND, order_id=order_id, client_order_id=client_order_id,
                        action="replace")
    new = amended(order, change, inst, engine.market(inst.symbol).last_price, ms=engine.now_ms())
    if new.reduce_only and not new.is_conditional and new.status.is_open and new.qty > order.qty:
        # As at create: a reduce-only order holds no more than the position it reduces.
        held = engine._reducible(account_id, inst.symbol, new.side, new.qty)
        new = dataclasses.replace(new, qty=max(new.filled_qty, held))
        if (new.qty, new.price) == (order.qty, order.price):
            raise Rejection(RejectReason.ORDER_NOT_MODIFIED, order_id=order.order_id)
    leverage = engine.leverage(account_id, inst.symbol)
    locked_before = order_initial_margin(order, leverage)
    more = order_initial_margin(new, leverage) - locked_before
    if more > 0:  # the create rule for the amended order, its own margin counted as free
        engine._check_margin(account_id, inst, new.side, new.leaves_qty, new.price, credit=locked_before)
    engine.orders.update(new)
    engine._emit(OrderChanged(new, amended=True))
    if new.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
        engine._matcher.work(new)  # a new limit price may cross the market now
    if more != 0:
        engine._emit(WalletChanged(engine.wallet_view(account_id)))
    done = engine.orders.get(new.order_id)
    assert done is not None
    return done
