"""Regular orders (``/fapi/v1/order`` and friends) and the account's trades."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from simulator.binance.errors import UNKNOWN_ORDER, BinanceError, from_rejection, unsupported
from simulator.binance.params import Params
from simulator.binance.render import order as render_order
from simulator.binance.render import trade as render_trade
from simulator.binance.routing import Call, route
from simulator.engine.amend import Amendment
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.rejections import Rejection
from simulator.engine.values import ClientOrderId, OrderStatus, OrderType, Side, Symbol, TimeInForce

SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
TIME_IN_FORCE = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK, "GTX": TimeInForce.POST_ONLY}
ALGO_TYPES = frozenset({"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"})
CLIENT_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/_-")


def client_id(call: Call, name: str) -> ClientOrderId:
    given = call.params.text(name)
    if given is None:
        return ClientOrderId(call.ids.client_id())
    if len(given) > 36 or not set(given) <= CLIENT_ID_CHARS:
        raise BinanceError(-4015, "Client order id is not valid.")
    return ClientOrderId(given)


def hedge_mode_refused(call: Call) -> None:
    position_side = call.params.text("positionSide")
    if position_side not in (None, "BOTH"):
        raise BinanceError(-4061, "Order's position side does not match user's setting.")


def new_order(call: Call) -> dict[str, Any]:
    params = call.params
    symbol = params.need("symbol")
    side = params.choice("side", SIDES, required=True)
    kind = params.need("type")
    if kind in ALGO_TYPES:
        raise BinanceError(-4120, "Order type not supported for this endpoint. Please use the Algo Order API"
                           " endpoints instead.")
    if kind not in ("MARKET", "LIMIT"):
        raise BinanceError(-1116, "Invalid orderType.")
    hedge_mode_refused(call)
    qty = params.decimal("quantity", required=True)
    price = params.decimal("price", required=kind == "LIMIT")
    tif = params.choice("timeInForce", TIME_IN_FORCE, required=kind == "LIMIT")
    response_type = params.text("newOrderRespType") or "ACK"
    if response_type not in ("ACK", "RESULT"):
        raise BinanceError(-1102, "Mandatory parameter 'newOrderRespType' was not sent, was empty/null, or malformed.")
    assert isinstance(side, Side) and qty is not None
    request = OrderRequest(
        symbol=Symbol(symbol), side=side, order_type=OrderType.MARKET if kind == "MARKET" else OrderType.LIMIT,
        qty=qty, price=price, time_in_force=tif if isinstance(tif, TimeInForce) else None,
        client_order_id=client_id(call, "newClientOrderId"), reduce_only=params.boolean("reduceOnly"),
    )
    try:
        placed = call.engine.place_order(call.account_id, request)
    except Rejection as rejection:
        raise from_rejection(rejection) from None
    inst = call.engine.instrument(symbol)
    if response_type == "RESULT":
        return render_order(placed, inst, call.ids)
    # ACK: the order as the matching engine accepted it, before anything traded.
    accepted = render_order(placed, inst, call.ids)
    zero_qty = render_order(_unfilled(placed), inst, call.ids)
    return {**accepted, **{k: zero_qty[k] for k in ("status", "avgPrice", "executedQty", "cumQty", "cumQuote")}}


def _unfilled(o: Order) -> Order:
    return replace(o, status=OrderStatus.NEW, filled_qty=Decimal(0), cum_exec_value=Decimal(0))


def regular(orders: list[Order]) -> list[Order]:
    """Orders of the regular order book: not conditional ones still waiting (those are algo orders)."""
    waiting = (OrderStatus.UNTRIGGERED, OrderStatus.DEACTIVATED)
    return [o for o in orders if o.trigger_price is None or (o.status not in waiting and o.filled_qty > 0)]


def find(call: Call, *, symbol: str, candidates: list[Order]) -> Order:
    params = call.params
    order_id = params.integer("orderId")
    link = params.text("origClientOrderId")
    if order_id is None and link is None:
        raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
    for o in candidates:
        if o.symbol != symbol:
            continue
        if order_id is not None and call.ids.engine_id(order_id) == o.order_id and not call.ids.is_algo(o.order_id):
            return o
        if order_id is None and o.client_order_id == link:
            return o
    raise UNKNOWN_ORDER


def _limit(params: Params) -> int:
    """A list call's ``limit``: 500 when absent, 1 to 1000 (Binance's bounds for orders and trades)."""
    limit = params.integer("limit") or 500
    if not 1 <= limit <= 1000:
        raise BinanceError(-1130, "Data sent for parameter 'limit' is not valid.")
    return limit


def _symbol(call: Call) -> str:
    symbol = call.params.need("symbol")
    try:
        call.engine.instrument(symbol)
    except Rejection as rejection:
        raise from_rejection(rejection) from None
    return symbol


def query_order(call: Call) -> dict[str, Any]:
    symbol = _symbol(call)
    found = find(call, symbol=symbol, candidates=regular(call.engine.queryable(call.engine.orders.all_for(call.account_id))))
    return render_order(found, call.engine.instrument(symbol), call.ids)


def open_order(call: Call) -> dict[str, Any]:
    symbol = _symbol(call)
    candidates = regular(call.engine.queryable(call.engine.orders.open_for(call.account_id)))
    found = find(call, symbol=symbol, candidates=candidates)
    return render_order(found, call.engine.instrument(symbol), call.ids)


def open_orders(call: Call) -> list[dict[str, Any]]:
    symbol = call.params.text("symbol")
    if symbol is not None:
        _symbol(call)
    orders = regular(call.engine.queryable(call.engine.orders.open_for(call.account_id)))
    return [render_order(o, call.engine.instrument(o.symbol), call.ids) for o in orders
            if symbol is None or o.symbol == symbol]


def all_orders(call: Call) -> list[dict[str, Any]]:
    symbol = _symbol(call)
    params = call.params
    limit = _limit(params)
    start, end = params.integer("startTime"), params.integer("endTime")
    from_id = params.integer("orderId")
    found = [o for o in reversed(regular(call.engine.queryable(call.engine.orders.all_for(call.account_id))))
             if o.symbol == symbol and (start is None or o.created_ms >= start) and (end is None or o.created_ms <= end)
             and (from_id is None or call.ids.order(o.order_id) >= from_id)]
    inst = call.engine.instrument(symbol)
    return [render_order(o, inst, call.ids) for o in found[-limit:]]


def cancel_order(call: Call) -> dict[str, Any]:
    symbol = _symbol(call)
    try:
        target = find(call, symbol=symbol, candidates=regular(call.engine.orders.open_for(call.account_id)))
    except BinanceError:
        raise BinanceError(-2011, "Unknown order sent.") from None
    try:
        cancelled = call.engine.cancel_order(call.account_id, symbol, order_id=target.order_id)
    except Rejection as rejection:
        raise from_rejection(rejection, cancel=True) from None
    return render_order(cancelled, call.engine.instrument(symbol), call.ids)


def modify_order(call: Call) -> dict[str, Any]:
    """``PUT /fapi/v1/order``: a resting LIMIT order's quantity and price, both sent (Binance's rule).

    As Binance documents: a new quantity or price that fails a filter is refused and the order stays;
    a GTX order whose new price would execute at once is cancelled (the matcher's post-only rule).
    Binance also cancels a partly filled order cut to its executed quantity; the simulator's limit
    orders fill whole, so none rests partly filled."""
    symbol = _symbol(call)
    params = call.params
    side = params.choice("side", SIDES, required=True)
    qty = params.decimal("quantity", required=True)
    price = params.decimal("price", required=True)
    if params.text("priceMatch") not in (None, "NONE"):
        raise unsupported("priceMatch", "priceMatch on modify; send a price")
    assert qty is not None and price is not None
    target = find(call, symbol=symbol, candidates=regular(call.engine.orders.open_for(call.account_id)))
    if side is not target.side:
        raise unsupported("side", f"modifying a {target.side.value.upper()} order with side={params.text('side')}")
    if target.order_type is not OrderType.LIMIT:
        raise unsupported("orderId", f"modifying a {target.order_type.value} order; Binance modifies LIMIT orders only")
    if (qty, price) == (target.qty, target.price):
        raise BinanceError(-5027, "No need to modify the order.")
    try:
        done = call.engine.amend_order(call.account_id, symbol, Amendment(qty=qty, price=price),
                                       order_id=target.order_id)
    except Rejection as rejection:
        raise from_rejection(rejection) from None
    return render_order(done, call.engine.instrument(symbol), call.ids)


def cancel_all(call: Call) -> dict[str, Any]:
    symbol = _symbol(call)
    call.engine.cancel_all(call.account_id, symbol, which=lambda o: o.trigger_price is None)
    return {"code": 200, "msg": "The operation of cancel all open order is done."}


def user_trades(call: Call) -> list[dict[str, Any]]:
    symbol = _symbol(call)
    params = call.params
    limit = _limit(params)
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None and end is not None and end - start > 7 * 24 * 3600 * 1000:
        raise BinanceError(-4166, "Search window is restricted to recent 7 days only.")
    executions = [e for e in reversed(call.engine.orders.executions_for(call.account_id))
                  if e.is_trade and e.symbol == symbol and (start is None or e.exec_ms >= start) and (end is None or e.exec_ms <= end)]
    inst = call.engine.instrument(symbol)
    return [render_trade(e, inst, call.ids, call.ids.trade(e.exec_id, e.symbol)) for e in executions[-limit:]]


ROUTES = (
    route("POST", "/fapi/v1/order", new_order, weight=0),
    route("GET", "/fapi/v1/order", query_order),
    route("DELETE", "/fapi/v1/order", cancel_order),
    route("PUT", "/fapi/v1/order", modify_order, weight=0),  # order-count limits only, as for a new order
    route("GET", "/fapi/v1/openOrder", open_order),
    route("GET", "/fapi/v1/openOrders", open_orders, without_symbol=40),
    route("GET", "/fapi/v1/allOrders", all_orders, weight=5),
    route("DELETE", "/fapi/v1/allOpenOrders", cancel_all),
    route("GET", "/fapi/v1/userTrades", user_trades, weight=5),
)
