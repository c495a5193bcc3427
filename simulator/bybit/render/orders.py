"""Orders as ``/v5/order/realtime``, ``/v5/order/history`` and the ``order`` stream show them."""

from __future__ import annotations

from typing import Any

from simulator.bybit.wire import optional, plain
from simulator.engine.orders import Order
from simulator.engine.values import StopOrderType


def order_item(order: Order) -> dict[str, Any]:
    avg = order.avg_price
    conditional = order.is_conditional
    has_tp = order.take_profit is not None
    has_sl = order.stop_loss is not None
    return {
        "orderId": order.order_id,
        "orderLinkId": order.client_order_id or "",
        "parentOrderLinkId": "",
        "blockTradeId": "",
        "symbol": order.symbol,
        "price": plain(order.price),
        "qty": plain(order.qty),
        "side": order.side.value,
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": order.status.value,
        "createType": order.create_type.value,
        "cancelType": order.cancel_type.value,
        "rejectReason": order.reject_reason,
        "avgPrice": "" if avg is None else plain(avg),
        "leavesQty": plain(order.leaves_qty),
        "leavesValue": plain(order.leaves_qty * order.price),
        "cumExecQty": plain(order.filled_qty),
        "cumExecValue": plain(order.cum_exec_value),
        "cumExecFee": plain(order.cum_exec_fee),
        "cumFeeDetail": {"USDT": plain(order.cum_exec_fee)} if order.cum_exec_fee else {},
        "timeInForce": order.time_in_force.value,
        "orderType": order.order_type.value,
        "stopOrderType": order.stop_order_type.value,
        "orderIv": "",
        "marketUnit": "",
        "slippageToleranceType": "UNKNOWN",
        "slippageTolerance": "0",
        "triggerPrice": optional(order.trigger_price),
        "takeProfit": optional(order.take_profit),
        "stopLoss": optional(order.stop_loss),
        "tpslMode": order.tpsl_mode.value if order.tpsl_mode else "",
        "ocoTriggerBy": "",
        "tpLimitPrice": "0",
        "slLimitPrice": "0",
        "tpTriggerBy": "LastPrice" if has_tp else "",
        "slTriggerBy": "LastPrice" if has_sl else "",
        "triggerDirection": order.trigger_direction.value if order.trigger_direction else 0,
        "triggerBy": "LastPrice" if conditional else "",
        "lastPriceOnCreated": plain(order.last_price_on_created),
        "reduceOnly": order.reduce_only,
        "closeOnTrigger": order.close_on_trigger,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "extraFees": "",
        "createdTime": str(order.created_ms),
        "updatedTime": str(order.updated_ms),
    }


def order_push(order: Order) -> dict[str, Any]:
    """The ``order`` stream item: the REST item plus the category and fee currency."""
    item = {"category": "linear", **order_item(order)}
    del item["parentOrderLinkId"]
    item["tpslMode"] = item["tpslMode"] or "UNKNOWN"
    item["brokerOrderPrice"] = ""
    item["feeCurrency"] = ""
    item["closedPnl"] = "0"
    return item


def ack(order: Order) -> dict[str, str]:
    """Create and cancel answer with the ids only."""
    return {"orderId": order.order_id, "orderLinkId": order.client_order_id or ""}


def is_stop_order(order: Order) -> bool:
    """What ``orderFilter=StopOrder`` selects: conditional orders, TP/SL included."""
    return order.stop_order_type is not StopOrderType.NONE
