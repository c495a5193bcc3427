"""``/v5/order/amend``: change an open order's qty, limit price or trigger price in place.

Bybit: "You can only modify unfilled or partially filled orders." The answer carries the ids
only, like create's; the private stream pushes the amended order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.bybit.errors import params_error
from simulator.bybit.handlers.trade import check_trigger_by, order_ids, unsupported
from simulator.bybit.render.orders import ack
from simulator.bybit.routing import Call, post
from simulator.engine.amend import Amendment

# Parameters of the amend endpoint the simulator does not model: refused by name, never ignored.
_NOT_MODELLED = ("orderIv", "tpslMode", "takeProfit", "stopLoss", "tpLimitPrice", "slLimitPrice")


def amend_order(call: Call) -> Mapping[str, Any]:
    params = call.params
    params.category()
    symbol = params.text("symbol", required=True)
    assert symbol is not None
    order_id, link = order_ids(params)
    if order_id is None and link is None:
        raise params_error("params error: OrderId or orderLinkId is required")
    for name in _NOT_MODELLED:
        if params.text(name) is not None:
            raise unsupported(f"{name} on order amend; it amends qty, price and triggerPrice")
    for name in ("triggerBy", "tpTriggerBy", "slTriggerBy"):
        check_trigger_by(params, name)
    # "0" for a trigger price means none, as at create.
    change = Amendment(qty=params.decimal("qty"), price=params.decimal("price"),
                       trigger_price=params.decimal("triggerPrice") or None)
    order = call.engine.amend_order(call.account_id, symbol, change, order_id=order_id, client_order_id=link)
    return ack(order)


ROUTES = (post("/v5/order/amend", amend_order),)
