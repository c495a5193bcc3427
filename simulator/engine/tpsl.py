"""Take-profit and stop-loss that guard a position.

In Full mode a position carries at most one stop-loss and one take-profit; each is a
qty-0, reduce-only, close-on-trigger conditional order that closes the whole position
when it fires, whatever the position's size by then. In Partial mode each TP/SL is an
ordinary reduce-only conditional order for a given size.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import TYPE_CHECKING

from simulator.engine.instruments import Instrument
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.positions import Position
from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.validation import check_price, check_qty, check_tpsl
from simulator.engine.values import (
    AccountId,
    CancelType,
    CreateType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
    TpslMode,
    TriggerDirection,
)

if TYPE_CHECKING:
    from simulator.engine.venue import Engine

_CREATE_TYPE = {
    StopOrderType.STOP_LOSS: CreateType.BY_STOP_LOSS,
    StopOrderType.TAKE_PROFIT: CreateType.BY_TAKE_PROFIT,
    StopOrderType.PARTIAL_STOP_LOSS: CreateType.BY_PARTIAL_STOP_LOSS,
    StopOrderType.PARTIAL_TAKE_PROFIT: CreateType.BY_PARTIAL_TAKE_PROFIT,
}


def _direction(kind: StopOrderType, position_side: Side) -> TriggerDirection:
    """A long's stop-loss fires on a fall and its take-profit on a rise; a short's the other way."""
    is_stop = kind in (StopOrderType.STOP_LOSS, StopOrderType.PARTIAL_STOP_LOSS)
    falls = is_stop == (position_side is Side.BUY)
    return TriggerDirection.FALLS_TO if falls else TriggerDirection.RISES_TO


class TpslBook:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------ order classification

    @staticmethod
    def stop_order_type_for(req: OrderRequest) -> StopOrderType:
        return StopOrderType.STOP if req.is_conditional else StopOrderType.NONE

    @staticmethod
    def mode_for(req: OrderRequest) -> TpslMode | None:
        return TpslMode.FULL if (req.take_profit or req.stop_loss) else None

    # ------------------------------------------------------------ Full mode

    def set_full(
        self, account_id: AccountId, inst: Instrument, *, stop_loss: Decimal | None, take_profit: Decimal | None
    ) -> None:
        """Set, amend, or (with 0) clear the whole-position TP/SL. ``None`` leaves a side as it is."""
        engine = self._engine
        position, side = self._held(account_id, inst)
        last = engine.market(inst.symbol).last_price
        for price in (stop_loss, take_profit):
            if price:
                check_price(price, inst)
        check_tpsl(side, last, stop_loss=stop_loss, take_profit=take_profit)
        wanted_sl = position.stop_loss if stop_loss is None else (stop_loss or None)
        wanted_tp = position.take_profit if take_profit is None else (take_profit or None)
        if (wanted_sl, wanted_tp) == (position.stop_loss, position.take_profit):
            raise Rejection(RejectReason.TPSL_NOT_MODIFIED, stop_loss=stop_loss, take_profit=take_profit)
        self._put_full(position, StopOrderType.STOP_LOSS, wanted_sl)
        self._put_full(position, StopOrderType.TAKE_PROFIT, wanted_tp)
        engine._put_position(
            dataclasses.replace(
                position, stop_loss=wanted_sl, take_profit=wanted_tp, tpsl_mode=TpslMode.FULL,
                updated_ms=engine.now_ms(),
            )
        )

    def _put_full(self, position: Position, kind: StopOrderType, trigger: Decimal | None) -> None:
        engine = self._engine
        existing = self._full_order(position, kind)
        if existing is not None and existing.trigger_price == trigger:
            return
        if existing is not None and trigger is None:
            engine._update(
                existing.transition(OrderStatus.CANCELLED, ms=engine.now_ms(), cancel_type=CancelType.BY_USER)
            )
        elif existing is not None:
            engine._update(dataclasses.replace(existing, trigger_price=trigger, updated_ms=engine.now_ms()))
        elif trigger is not None:
            self._add(position, kind, trigger, qty=Decimal(0), mode=TpslMode.FULL)

    def _full_order(self, position: Position, kind: StopOrderType) -> Order | None:
        for order in self._engine.orders.open_for(position.account_id, position.symbol):
            if order.stop_order_type is kind:
                return order
        return None

    def forget(self, order: Order) -> None:
        """A Full-mode TP/SL order was cancelled: the position no longer carries that price."""
        engine = self._engine
        position = engine.position(order.account_id, order.symbol)
        now = engine.now_ms()
        if order.stop_order_type is StopOrderType.STOP_LOSS and position.stop_loss is not None:
            engine._put_position(dataclasses.replace(position, stop_loss=None, updated_ms=now))
        elif order.stop_order_type is StopOrderType.TAKE_PROFIT and position.take_profit is not None:
            engine._put_position(dataclasses.replace(position, take_profit=None, updated_ms=now))

    # ------------------------------------------------------------ Partial mode

    def place_partial(
        self, account_id: AccountId, inst: Instrument, *, stop_loss: Decimal | None, take_profit: Decimal | None,
        sl_size: Decimal | None, tp_size: Decimal | None,
    ) -> None:
        engine = self._engine
        position, side = self._held(account_id, inst)
        last = engine.market(inst.symbol).last_price
        legs = [
            (kind, trigger, size if size else position.qty)
            for kind, trigger, size in (
                (StopOrderType.PARTIAL_STOP_LOSS, stop_loss, sl_size),
                (StopOrderType.PARTIAL_TAKE_PROFIT, take_profit, tp_size),
            )
            if trigger
        ]
        # Validate every leg before adding any, so a refusal leaves nothing behind.
        for _, trigger, size in legs:
            check_price(trigger, inst)
            check_qty(
                OrderRequest(symbol=inst.symbol, side=side.opposite, order_type=OrderType.MARKET, qty=size),
                inst,
            )
        check_tpsl(side, last, stop_loss=stop_loss, take_profit=take_profit)
        for kind, trigger, size in legs:
            self._add(position, kind, trigger, qty=min(size, position.qty), mode=TpslMode.PARTIAL)

    # ------------------------------------------------------------ shared

    def _held(self, account_id: AccountId, inst: Instrument) -> tuple[Position, Side]:
        """The position TP/SL would guard, and its side; there must be one."""
        position = self._engine.position(account_id, inst.symbol)
        if position.side is None:
            raise Rejection(RejectReason.NO_POSITION_FOR_TPSL, symbol=inst.symbol)
        return position, position.side

    def _add(self, position: Position, kind: StopOrderType, trigger: Decimal, *, qty: Decimal, mode: TpslMode) -> None:
        engine = self._engine
        assert position.side is not None
        now = engine.now_ms()
        order = Order(
            order_id=engine.ids.order_id(),
            client_order_id=None,
            account_id=position.account_id,
            symbol=position.symbol,
            side=position.side.opposite,
            order_type=OrderType.MARKET,
            price=Decimal(0),
            qty=qty,
            time_in_force=TimeInForce.IOC,
            status=OrderStatus.UNTRIGGERED,
            created_ms=now,
            updated_ms=now,
            last_price_on_created=engine.market(position.symbol).last_price,
            reduce_only=True,
            close_on_trigger=True,
            trigger_price=trigger,
            trigger_direction=_direction(kind, position.side),
            stop_order_type=kind,
            tpsl_mode=mode,
            create_type=_CREATE_TYPE[kind],
        )
        engine.orders.add(order)
        engine._emit_order(order)
