"""``POST /fapi/v1/batchOrders``: up to 5 orders in one request, each placed or refused on its own.

The answer lists, in the request's order, each placed order as ``/fapi/v1/order`` answers it, or
the code and message it was refused with (ccxt's ``create_orders`` reads both).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from simulator.binance.errors import BinanceError
from simulator.binance.handlers.trade import new_order
from simulator.binance.params import Params
from simulator.binance.routing import Call, route

BATCH_MAX = 5


def batch_orders(call: Call) -> list[dict[str, Any]]:
    text = call.params.need("batchOrders")
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        raise BinanceError(-1130, "Data sent for parameter 'batchOrders' is not valid.") from None
    if not isinstance(items, list) or not items:
        raise BinanceError(-1130, "Data sent for parameter 'batchOrders' is not valid.")
    if len(items) > BATCH_MAX:
        raise BinanceError(-4082, f"Invalid number of batch place orders: {len(items)}")
    answers: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            answers.append({"code": -1130, "msg": "Data sent for parameter 'batchOrders' is not valid."})
            continue
        values = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in item.items()}
        try:
            answers.append(new_order(dataclasses.replace(call, params=Params(values))))
        except BinanceError as refused:
            answers.append({"code": refused.code, "msg": refused.msg})
    return answers


ROUTES = (route("POST", "/fapi/v1/batchOrders", batch_orders, weight=5),)
