"""Matching: fills at the current price, resting limit orders, and conditional triggers.

There is no order book of other participants: a marketable order fills in full at the
last price (taker), a resting limit order fills at its own price (maker) once the last
price crosses it, and a conditional order activates when the last price crosses its
trigger in its trigger direction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from simulator.engine.events import Executed, WalletChanged
from simulator.engine.fills import Execution
from simulator.engine.orders import Order
from simulator.engine.positions import apply_fill
from simulator.engine.rejections import Rejection
from simulator.engine.values import (
    AccountId,
    CancelType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    Symbol,
    TimeInForce,
    TriggerDirection,
    VenueOrderId,
)

if TYPE_CHECKING:
    from simulator.engine.venue import Engine

_TPSL_KINDS = frozenset(
    {
        StopOrderType.STOP_LOSS,
        StopOrderType.TAKE_PROFIT,
        StopOrderType.PARTIAL_STOP_LOSS,
        StopOrderType.PARTIAL_TAKE_PROFIT,
    }
)


def trigger_hit(order: Order, last: Decimal) -> bool:
    assert order.trigger_price is not None
    if order.trigger_direction is TriggerDirection.RISES_TO:
        return last >= order.trigger_price
    return last <= order.trigger_price


def crosses(order: Order, last: Decimal) -> bool:
    """Whether a limit order at its price is marketable against ``last``."""
    return last <= order.price if order.side is Side.BUY else last >= order.price


class Matcher:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def work(self, order: Order) -> None:
        """Match an order that has just become active."""
        engine = self._engine
        last = engine.market(order.symbol).last_price
        if order.order_type is OrderType.MARKET:
            wanted = order.qty - order.filled_qty
            qty = engine.faults.market_fill(order.symbol, wanted, str(order.order_id)) if engine.faults else wanted
            self.fill(order, qty, last, is_maker=False)
            if qty < wanted and (after := engine.orders.get(order.order_id)) is not None and after.status.is_open:
                engine._cancel(after, CancelType.BY_USER, reject_reason="EC_NoImmediateQtyToFill")
            return
        marketable = crosses(order, last)
        if marketable and order.time_in_force is TimeInForce.POST_ONLY:
            engine._cancel(order, CancelType.BY_USER, reject_reason="EC_PostOnlyWillTakeLiquidity")
        elif marketable:
            self.fill(order, order.qty - order.filled_qty, last, is_maker=False)
        elif order.time_in_force is TimeInForce.FOK:
            engine._cancel(order, CancelType.BY_USER, reject_reason="EC_CancelForNoFullFill")
        elif order.time_in_force is TimeInForce.IOC:
            engine._cancel(order, CancelType.BY_USER, reject_reason="EC_NoImmediateQtyToFill")

    def sweep(self, symbol: Symbol) -> None:
        """After a price move: fire triggers and fill resting limit orders that now cross."""
        engine = self._engine
        last = engine.market(symbol).last_price
        for candidate in engine.orders.open_in_symbol_oldest_first(symbol):
            order = engine.orders.get(candidate.order_id)
            assert order is not None
            if order.status is OrderStatus.UNTRIGGERED:
                if trigger_hit(order, last):
                    self.trigger(order)
            elif order.status.is_open and order.order_type is OrderType.LIMIT and crosses(order, last):
                self.fill(order, order.qty - order.filled_qty, order.price, is_maker=True)

    def trigger(self, order: Order) -> None:
        engine = self._engine
        now = engine.now_ms()
        position = engine.position(order.account_id, order.symbol)
        inst = engine.instrument(order.symbol)
        last = engine.market(order.symbol).last_price
        qty = order.qty
        closing = order.reduce_only or order.close_on_trigger
        if closing:
            if position.is_flat or position.side is order.side:
                triggered = engine._update(order.transition(OrderStatus.TRIGGERED, ms=now))
                engine._update(
                    triggered.transition(OrderStatus.DEACTIVATED, ms=now, cancel_type=CancelType.BY_REDUCE_ONLY)
                )
                return
            # A Full-mode TP/SL has no qty of its own: it closes whatever the position is when it fires.
            qty = position.qty if order.is_position_tpsl else min(order.qty, position.qty)
        price = engine.protection_price(inst, order.side) if order.order_type is OrderType.MARKET else order.price
        affordable = True
        if not closing:
            # Checked while the order is still untriggered, so it does not count its own margin twice.
            try:
                engine._check_margin(order.account_id, inst, order.side, qty, last)
            except Rejection:
                affordable = False
        triggered = engine._update(order.transition(OrderStatus.TRIGGERED, ms=now, qty=qty, price=price))
        if not affordable:
            engine._update(triggered.transition(OrderStatus.CANCELLED, ms=now, reject_reason="EC_Others"))
            return
        if order.order_type is OrderType.LIMIT:
            self.work(engine._update(triggered.transition(OrderStatus.NEW, ms=now)))
        else:
            self.fill(triggered, qty, last, is_maker=False)

    def fill(self, order: Order, qty: Decimal, price: Decimal, *, is_maker: bool) -> None:
        engine = self._engine
        if order.reduce_only or order.close_on_trigger:
            position = engine.position(order.account_id, order.symbol)
            qty = min(qty, position.qty) if position.side is order.side.opposite else Decimal(0)
            if qty == 0:
                engine._cancel(order, CancelType.BY_REDUCE_ONLY)
                return
        now = engine.now_ms()
        inst = engine.instrument(order.symbol)
        rate = inst.maker_fee_rate if is_maker else inst.taker_fee_rate
        fee = qty * price * rate
        seq = engine._next_seq()
        before = engine.position(order.account_id, order.symbol)
        outcome = apply_fill(before, order.side, qty, price, fee, ms=now, seq=seq)
        engine._settle(order.account_id, outcome.realised_gross, fee)
        filled = order.with_fill(qty, price, fee, ms=now)
        if order.reduce_only and filled.status is OrderStatus.PARTIALLY_FILLED and outcome.position.is_flat:
            # The position is gone: the reduce-only remainder can never fill.
            filled = filled.transition(OrderStatus.CANCELLED, ms=now, cancel_type=CancelType.BY_REDUCE_ONLY)
        engine._update(filled)
        market = engine.market(order.symbol)
        execution = Execution(
            exec_id=engine.ids.exec_id(), account_id=order.account_id, order_id=order.order_id,
            client_order_id=order.client_order_id, symbol=order.symbol, side=order.side,
            order_type=order.order_type, stop_order_type=order.stop_order_type, create_type=order.create_type,
            price=price, qty=qty, fee=fee, fee_rate=rate, is_maker=is_maker, order_price=order.price,
            order_qty=order.qty, leaves_qty=filled.leaves_qty, closed_qty=outcome.closed_qty,
            realised_pnl=outcome.realised_gross,
            mark_price=market.mark_price, exec_ms=now, seq=seq,
        )
        engine.orders.add_execution(execution)
        engine.tape(order.symbol).traded(now, qty, price, taker_buy=(order.side is Side.BUY) != is_maker,
                                         exec_id=execution.exec_id)
        engine._emit(Executed(execution))
        position = outcome.position
        engine._put_position(position)
        engine._emit(WalletChanged(engine.wallet_view(order.account_id)))
        flipped = before.side is not None and position.side is not None and before.side is not position.side
        if position.is_flat or flipped:
            self.on_position_closed(order.account_id, order.symbol, keep=order.order_id)
        if not position.is_flat and position.side is order.side and (order.stop_loss or order.take_profit):
            try:
                engine._tpsl.set_full(
                    order.account_id, inst, stop_loss=order.stop_loss, take_profit=order.take_profit
                )
            except Rejection:
                # The fill already happened; TP/SL that no longer fit the price (or repeat the
                # position's own) are dropped, as the venue drops them, rather than undoing the trade.
                pass

    def on_position_closed(self, account_id: AccountId, symbol: Symbol, *, keep: VenueOrderId) -> None:
        """TP/SL orders die with the position they guard; reduce-only orders have nothing left to reduce."""
        engine = self._engine
        now = engine.now_ms()
        for order in engine.orders.open_for(account_id, symbol):
            if order.order_id == keep:
                continue
            if order.stop_order_type in _TPSL_KINDS and order.status is OrderStatus.UNTRIGGERED:
                engine._update(
                    order.transition(OrderStatus.DEACTIVATED, ms=now, cancel_type=CancelType.BY_TPSL_CLEAR)
                )
            elif order.reduce_only and order.status is not OrderStatus.UNTRIGGERED:
                engine._cancel(order, CancelType.BY_REDUCE_ONLY)
