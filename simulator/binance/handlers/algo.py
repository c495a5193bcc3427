"""Conditional orders on Binance's algo order service (``/fapi/v1/algoOrder``, ``algoId``, ``clientAlgoId``)."""

from __future__ import annotations

from typing import Any

from simulator.binance.errors import BinanceError, from_rejection, unsupported
from simulator.binance.handlers.trade import SIDES, _symbol, client_id, hedge_mode_refused
from simulator.binance.render import algo_order
from simulator.binance.routing import Call, route
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.rejections import Rejection
from simulator.engine.values import OrderStatus, OrderType, Side, Symbol, TimeInForce, TriggerDirection

# Which way the price must move to fire each conditional order type, by order side.
_DIRECTION = {
    ("STOP_MARKET", Side.SELL): TriggerDirection.FALLS_TO, ("STOP_MARKET", Side.BUY): TriggerDirection.RISES_TO,
    ("STOP", Side.SELL): TriggerDirection.FALLS_TO, ("STOP", Side.BUY): TriggerDirection.RISES_TO,
    ("TAKE_PROFIT_MARKET", Side.SELL): TriggerDirection.RISES_TO,
    ("TAKE_PROFIT_MARKET", Side.BUY): TriggerDirection.FALLS_TO,
    ("TAKE_PROFIT", Side.SELL): TriggerDirection.RISES_TO, ("TAKE_PROFIT", Side.BUY): TriggerDirection.FALLS_TO,
}
NOT_FOUND = BinanceError(-2013, "Order does not exist.")


def new_algo_order(call: Call) -> dict[str, Any]:
    params = call.params
    if params.need("algoType") != "CONDITIONAL":
        raise unsupported("algoType", f"algoType={params.text('algoType')}; only CONDITIONAL")
    symbol = _symbol(call)
    side = params.choice("side", SIDES, required=True)
    kind = params.need("type")
    assert isinstance(side, Side)
    if (kind, side) not in _DIRECTION:
        raise BinanceError(-1116, "Invalid orderType.")
    hedge_mode_refused(call)
    trigger = params.decimal("triggerPrice", required=True)
    limit = kind in ("STOP", "TAKE_PROFIT")
    price = params.decimal("price", required=limit)
    reduce_only = params.boolean("reduceOnly")
    qty = params.decimal("quantity")
    if params.boolean("closePosition"):
        held = call.engine.position(call.account_id, symbol).size
        if held == 0:
            raise unsupported("closePosition", "closePosition=true with no position to close")
        qty, reduce_only = abs(held), True
    if qty is None:
        raise BinanceError(-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.")
    request = OrderRequest(
        symbol=Symbol(symbol), side=side, order_type=OrderType.LIMIT if limit else OrderType.MARKET, qty=qty,
        price=price, time_in_force=TimeInForce.GTC, client_order_id=client_id(call, "clientAlgoId"),
        reduce_only=reduce_only, close_on_trigger=reduce_only, trigger_price=trigger,
        trigger_direction=_DIRECTION[(kind, side)],
    )
    try:
        placed = call.engine.place_order(call.account_id, request)
    except Rejection as rejection:
        raise from_rejection(rejection) from None
    call.ids.algo(placed.order_id)
    call.ids.algo_types[placed.order_id] = kind
    return _render(call, placed)


def _render(call: Call, o: Order) -> dict[str, Any]:
    return algo_order(o, call.engine.instrument(o.symbol), call.ids, algo_type=call.ids.algo_types[o.order_id])


def _algo_orders(call: Call, orders: list[Order]) -> list[Order]:
    return [o for o in orders if call.ids.is_algo(o.order_id)]


def _find(call: Call, candidates: list[Order]) -> Order:
    algo_id = call.params.integer("algoId")
    link = call.params.text("clientAlgoId")
    if algo_id is None and link is None:
        raise BinanceError(-1102, "Param 'clientAlgoId' or 'algoId' must be sent, but both were empty/null!")
    for o in _algo_orders(call, candidates):
        if (algo_id is not None and call.ids.engine_id(algo_id) == o.order_id) or (algo_id is None
                                                                                   and o.client_order_id == link):
            return o
    raise NOT_FOUND


def query_algo_order(call: Call) -> dict[str, Any]:
    return _render(call, _find(call, call.engine.queryable(call.engine.orders.all_for(call.account_id))))


def cancel_algo_order(call: Call) -> dict[str, Any]:
    waiting = [o for o in call.engine.orders.open_for(call.account_id) if o.status is OrderStatus.UNTRIGGERED]
    try:
        target = _find(call, waiting)
    except BinanceError:
        raise BinanceError(-2011, "Unknown order sent.") from None
    try:
        call.engine.cancel_order(call.account_id, target.symbol, order_id=target.order_id)
    except Rejection as rejection:
        raise from_rejection(rejection, cancel=True) from None
    return {"algoId": call.ids.algo(target.order_id), "clientAlgoId": target.client_order_id or "", "code": "200",
            "msg": "success"}


def open_algo_orders(call: Call) -> Any:
    symbol = call.params.text("symbol")
    if symbol is not None:
        _symbol(call)
    waiting = [o for o in _algo_orders(call, call.engine.queryable(call.engine.orders.open_for(call.account_id)))
               if o.status is OrderStatus.UNTRIGGERED and (symbol is None or o.symbol == symbol)]
    return [_render(call, o) for o in waiting]


def cancel_all_algo(call: Call) -> dict[str, Any]:
    symbol = _symbol(call)
    call.engine.cancel_all(call.account_id, symbol,
                           which=lambda o: call.ids.is_algo(o.order_id) and o.status is OrderStatus.UNTRIGGERED)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


ROUTES = (
    route("POST", "/fapi/v1/algoOrder", new_algo_order, weight=0),
    route("GET", "/fapi/v1/algoOrder", query_algo_order),
    route("DELETE", "/fapi/v1/algoOrder", cancel_algo_order),
    route("GET", "/fapi/v1/openAlgoOrders", open_algo_orders, without_symbol=40),
    route("DELETE", "/fapi/v1/algoOpenOrders", cancel_all_algo),
)
