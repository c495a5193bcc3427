"""Checks a request must pass before the engine accepts it. Pure: they raise or return nothing."""

from __future__ import annotations

from decimal import Decimal

from simulator.engine.instruments import Instrument
from simulator.engine.orders import OrderRequest
from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.values import OrderType, Side, TriggerDirection


def check_qty(req: OrderRequest, inst: Instrument) -> None:
    if req.qty <= 0 or not inst.is_on_step(req.qty):
        raise Rejection(RejectReason.QTY_OFF_STEP, qty=req.qty, step=inst.qty_step)
    if req.qty < inst.min_qty:
        raise Rejection(RejectReason.QTY_BELOW_MIN, qty=req.qty, min_qty=inst.min_qty)
    limit = inst.max_market_qty if req.order_type is OrderType.MARKET else inst.max_qty
    if req.qty > limit:
        raise Rejection(RejectReason.QTY_ABOVE_MAX, qty=req.qty, max_qty=limit)


def check_price(price: Decimal, inst: Instrument) -> None:
    if price < inst.min_price or price > inst.max_price:
        raise Rejection(
            RejectReason.PRICE_OUT_OF_RANGE, price=price, min_price=inst.min_price, max_price=inst.max_price
        )
    if not inst.is_on_tick(price):
        raise Rejection(RejectReason.PRICE_OFF_TICK, price=price, tick=inst.tick_size)


def check_min_notional(req: OrderRequest, inst: Instrument, reference_price: Decimal) -> None:
    if req.reduce_only:
        return
    notional = req.qty * reference_price
    if notional < inst.min_notional:
        raise Rejection(RejectReason.BELOW_MIN_NOTIONAL, notional=notional, min_notional=inst.min_notional)


def check_trigger(req: OrderRequest, last_price: Decimal) -> None:
    if req.trigger_price is None:
        return
    if req.trigger_direction is TriggerDirection.RISES_TO and req.trigger_price <= last_price:
        raise Rejection(RejectReason.TRIGGER_NOT_ABOVE_PRICE, trigger_price=req.trigger_price, current=last_price)
    if req.trigger_direction is TriggerDirection.FALLS_TO and req.trigger_price >= last_price:
        raise Rejection(RejectReason.TRIGGER_NOT_BELOW_PRICE, trigger_price=req.trigger_price, current=last_price)


def check_tpsl(side: Side, base_price: Decimal, *, stop_loss: Decimal | None, take_profit: Decimal | None) -> None:
    """TP/SL for a position on ``side`` entered around ``base_price`` must sit on the right sides of it."""
    if stop_loss is not None and stop_loss > 0:
        wrong = stop_loss >= base_price if side is Side.BUY else stop_loss <= base_price
        if wrong:
            raise Rejection(RejectReason.STOP_LOSS_WRONG_SIDE, side=side.value, stop_loss=stop_loss, base_price=base_price)
    if take_profit is not None and take_profit > 0:
        wrong = take_profit <= base_price if side is Side.BUY else take_profit >= base_price
        if wrong:
            raise Rejection(
                RejectReason.TAKE_PROFIT_WRONG_SIDE, side=side.value, take_profit=take_profit, base_price=base_price
            )
