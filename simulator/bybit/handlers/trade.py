"""``/v5/order/*``: create, cancel, cancel-all, and the real-time and history queries."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from simulator.bybit.errors import BybitError, invalid, missing, params_error
from simulator.bybit.handlers.paging import SEVEN_DAYS_MS, page, time_window
from simulator.bybit.params import Params
from simulator.bybit.render.orders import ack, order_item
from simulator.bybit.routing import Call, get, post
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.values import (
    ClientOrderId,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    Symbol,
    TimeInForce,
    TriggerDirection,
    VenueOrderId,
)

SIDES = {s.value: s for s in Side}
ORDER_TYPES = {t.value: t for t in OrderType}
TIME_IN_FORCE = {t.value: t for t in TimeInForce}
TRIGGER_DIRECTIONS = {str(d.value): d for d in TriggerDirection}
STATUSES = {s.value: s for s in OrderStatus}
ORDER_LINK_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")

_FILTERS: dict[str, Callable[[Order], bool]] = {
    "Order": lambda o: o.stop_order_type is StopOrderType.NONE,
    "StopOrder": lambda o: o.stop_order_type is StopOrderType.STOP,
    "tpslOrder": lambda o: o.stop_order_type not in (StopOrderType.NONE, StopOrderType.STOP),
}


def unsupported(what: str) -> BybitError:
    return params_error(f"this simulator doesn't (yet) support {what}")


def _position_idx(params: Params) -> None:
    idx = params.integer("positionIdx")
    if idx not in (None, 0):
        raise params_error("position idx not match position mode")


def check_trigger_by(params: Params, name: str) -> None:
    value = params.text(name)
    if value not in (None, "LastPrice"):
        if value in ("MarkPrice", "IndexPrice"):
            raise unsupported(f"{name}={value}; triggers follow the last price")
        raise invalid(name)


def _client_id(params: Params) -> ClientOrderId | None:
    link = params.text("orderLinkId")
    if link is None:
        return None
    if not ORDER_LINK_ID.fullmatch(link):
        raise invalid("orderLinkId")
    return ClientOrderId(link)


def order_request(params: Params) -> OrderRequest:
    symbol = params.text("symbol", required=True)
    side = params.choice("side", SIDES, required=True)
    order_type = params.choice("orderType", ORDER_TYPES, required=True)
    qty = params.decimal("qty", required=True)
    assert symbol is not None and side is not None and order_type is not None and qty is not None
    price = params.decimal("price")
    if order_type is OrderType.LIMIT and not price:
        raise invalid("price")
    _position_idx(params)
    for name in ("triggerBy", "tpTriggerBy", "slTriggerBy"):
        check_trigger_by(params, name)
    tpsl_mode = params.text("tpslMode")
    if tpsl_mode not in (None, "Full"):
        raise unsupported(f"tpslMode={tpsl_mode} on order create; attached TP/SL close the whole position")
    for name in ("tpOrderType", "slOrderType"):
        if params.text(name) not in (None, "Market"):
            raise unsupported(f"{name}={params.text(name)}; attached TP/SL are market orders")
    trigger_price = params.decimal("triggerPrice")
    direction = None
    if trigger_price:
        code = params.integer("triggerDirection", required=True)
        direction = TRIGGER_DIRECTIONS.get(str(code))
        if direction is None:
            raise invalid("triggerDirection")
    return OrderRequest(
        symbol=Symbol(symbol),
        side=side,
        order_type=order_type,
        qty=qty,
        price=price if order_type is OrderType.LIMIT else None,
        time_in_force=params.choice("timeInForce", TIME_IN_FORCE),
        client_order_id=_client_id(params),
        reduce_only=params.boolean("reduceOnly"),
        close_on_trigger=params.boolean("closeOnTrigger"),
        trigger_price=trigger_price or None,
        trigger_direction=direction,
        take_profit=params.decimal("takeProfit") or None,
        stop_loss=params.decimal("stopLoss") or None,
    )


def create_order(call: Call) -> Mapping[str, Any]:
    call.params.category()
    order = call.engine.place_order(call.account_id, order_request(call.params))
    return ack(order)


def order_ids(params: Params) -> tuple[VenueOrderId | None, ClientOrderId | None]:
    order_id = params.text("orderId")
    link = params.text("orderLinkId")
    return (VenueOrderId(order_id) if order_id else None), (ClientOrderId(link) if link else None)


def cancel_order(call: Call) -> Mapping[str, Any]:
    call.params.category()
    symbol = call.params.text("symbol", required=True)
    assert symbol is not None
    order_id, link = order_ids(call.params)
    if order_id is None and link is None:
        raise params_error("params error: OrderId or orderLinkId is required")
    order = call.engine.cancel_order(call.account_id, symbol, order_id=order_id, client_order_id=link)
    return ack(order)


def _order_filter(params: Params) -> Callable[[Order], bool]:
    name = params.text("orderFilter")
    if name is None:
        return lambda o: True
    if name not in _FILTERS:
        raise invalid("orderFilter")
    return _FILTERS[name]


def _scope(params: Params) -> Callable[[Order], bool]:
    """Which symbol(s) a query or cancel-all covers: symbol, baseCoin or settleCoin (one is required)."""
    symbol = params.text("symbol")
    base = params.text("baseCoin")
    settle = params.text("settleCoin")
    if symbol is not None:
        return lambda o: o.symbol == symbol
    if base is not None:
        return lambda o: o.symbol == f"{base}USDT"
    if settle is not None:
        if settle != "USDT":
            return lambda o: False
        return lambda o: True
    raise missing("symbol or settleCoin or baseCoin")


def cancel_all(call: Call) -> Mapping[str, Any]:
    call.params.category()
    scope, kind = _scope(call.params), _order_filter(call.params)
    symbol = call.params.text("symbol")
    if symbol is not None:
        call.engine.instrument(symbol)
    cancelled = call.engine.cancel_all(call.account_id, which=lambda o: scope(o) and kind(o))
    return {"list": [ack(o) for o in cancelled], "success": "1"}


def _lookup(call: Call, candidates: list[Order]) -> list[Order]:
    """Bybit's lookup priority: orderId, then orderLinkId, then symbol / baseCoin / settleCoin."""
    params = call.params
    order_id, link = order_ids(params)
    if order_id is not None:
        return [o for o in candidates if o.order_id == order_id]
    if link is not None:
        return [o for o in candidates if o.client_order_id == link]
    scope = _scope(params)
    return [o for o in candidates if scope(o)]


def realtime(call: Call) -> Mapping[str, Any]:
    call.params.category()
    params = call.params
    store = call.engine.orders
    open_only = params.integer("openOnly") or 0
    if open_only not in (0, 1, 2):
        raise invalid("openOnly")
    by_id = "orderId" in params or "orderLinkId" in params
    if by_id:
        # A lookup by id reaches "the most recent 500 orders" of any status (what ccxt's
        # acknowledged fetch_order relies on).
        candidates = store.in_realtime_view(call.account_id)
    elif open_only:
        # openOnly=1: the recent closed records only (at most 500 per account).
        candidates = store.recent_closed_for(call.account_id)
    else:
        candidates = store.open_for(call.account_id)
    if not by_id:
        _scope(params)
    kind = _order_filter(params)
    found = [o for o in _lookup(call, call.engine.queryable(candidates)) if kind(o)]
    chunk, cursor = page(found, params, default=20, maximum=50)
    return {"category": "linear", "list": [order_item(o) for o in chunk], "nextPageCursor": cursor}


DAY_MS = 24 * 3600 * 1000
TWO_YEARS_MS = 730 * DAY_MS


def in_history(order: Order, now_ms: int) -> bool:
    """What Bybit's order history keeps for a unified account.

    Open orders are not in it; orders that never filled and were cancelled, rejected or
    deactivated only for 24 hours; orders with fills for two years.
    """
    if order.status.is_open:
        return False
    if order.filled_qty == 0 and order.status is not OrderStatus.FILLED:
        return now_ms - order.updated_ms <= DAY_MS
    return now_ms - order.updated_ms <= TWO_YEARS_MS


def history(call: Call) -> Mapping[str, Any]:
    call.params.category()
    params = call.params
    status = params.choice("orderStatus", STATUSES)
    start, end = time_window(params, call.now_ms)
    if "startTime" in params and "endTime" in params and not 0 <= end - start <= SEVEN_DAYS_MS:
        raise params_error("The startTime and endTime interval must be less than 7 days")
    kind = _order_filter(params)
    by_id = "orderId" in params or "orderLinkId" in params
    candidates = call.engine.queryable(call.engine.orders.all_for(call.account_id))
    found = [
        o
        for o in _lookup(call, candidates)
        if kind(o)
        and in_history(o, call.now_ms)
        and (status is None or o.status is status)
        and (by_id or start <= o.created_ms <= end)
    ]
    chunk, cursor = page(found, params, default=20, maximum=50)
    return {"category": "linear", "list": [order_item(o) for o in chunk], "nextPageCursor": cursor}


ROUTES = (
    post("/v5/order/create", create_order),
    post("/v5/order/cancel", cancel_order),
    post("/v5/order/cancel-all", cancel_all),
    get("/v5/order/realtime", realtime, private=True),
    get("/v5/order/history", history, private=True),
)
