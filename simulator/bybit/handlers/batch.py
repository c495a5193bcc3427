"""``/v5/order/create-batch``: up to 20 linear orders in one request, each placed or refused on its own.

Bybit processes the items in order and not atomically: the answer lists every item, with its ids
when it was placed and empty ones when it was refused, and ``retExtInfo`` holds each item's code
and message in the same order. ccxt's ``create_orders`` reads both.
"""

from __future__ import annotations

from typing import Any

from simulator.bybit.errors import BybitError, from_rejection, params_error
from simulator.bybit.handlers.trade import order_request
from simulator.bybit.params import Params
from simulator.bybit.routing import Call, post
from simulator.bybit.wire import WithExtInfo
from simulator.engine.rejections import Rejection

BATCH_MAX = 20  # linear (Bybit: 20 for linear, inverse and option, 10 for spot)


def create_batch(call: Call) -> WithExtInfo:
    call.params.category()
    items = call.params.raw("request")
    if not isinstance(items, list) or not items:
        raise params_error("params error: request is empty")
    if len(items) > BATCH_MAX:
        raise params_error(f"params error: the batch holds {len(items)} orders; at most {BATCH_MAX} per request")
    placed: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for item in items:
        values = item if isinstance(item, dict) else {}
        try:
            order = call.engine.place_order(call.account_id, order_request(Params(values, typed=True)))
        except (BybitError, Rejection) as refused:
            error = from_rejection(refused) if isinstance(refused, Rejection) else refused
            placed.append({"category": "linear", "symbol": _text(values.get("symbol")), "orderId": "",
                           "orderLinkId": _text(values.get("orderLinkId")), "createAt": ""})
            outcomes.append({"code": error.ret_code, "msg": error.ret_msg})
            continue
        placed.append({"category": "linear", "symbol": order.symbol, "orderId": order.order_id,
                       "orderLinkId": order.client_order_id or "", "createAt": str(order.created_ms)})
        outcomes.append({"code": 0, "msg": "OK"})
    return WithExtInfo({"list": placed}, {"list": outcomes})


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


ROUTES = (post("/v5/order/create-batch", create_batch),)
