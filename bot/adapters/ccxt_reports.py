"""ccxt's unified order and position dicts, read into the bot's reports.

An answer that lacks what a report needs (Bybit's create and cancel answers carry ids only) is
not a report: the reader returns ``None`` and the caller completes it from what it sent and from
later evidence.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.values import ClientOrderId, OrderReport, OrderStatus, PositionReport, Side, VenueOrderId

_STATUS = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.CLOSED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}


def decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def order_report(order: dict[str, Any], source: str) -> OrderReport | None:
    status = _STATUS.get(order.get("status") or "")
    qty = decimal(order.get("amount"))
    if order.get("id") is None or order.get("side") is None or status is None or qty is None:
        return None
    average = decimal(order.get("average"))
    filled = decimal(order.get("filled")) or Decimal(0)
    info = order.get("info")
    if isinstance(info, dict) and "aid" in info:
        # Binance's ALGO_UPDATE: ccxt reads no fill from it and takes a closed (triggered, finished)
        # algo order as wholly filled. What its order in the book executed is "aq", once placed.
        filled = decimal(info.get("aq")) or Decimal(0)
    return OrderReport(
        venue_order_id=VenueOrderId(str(order["id"])),
        client_order_id=ClientOrderId(order["clientOrderId"]) if order.get("clientOrderId") else None,
        symbol=order["symbol"],
        side=order["side"],
        status=status,
        qty=qty,
        filled=filled,
        avg_price=average if average else None,
        reduce_only=bool(order.get("reduceOnly")),
        trigger_price=decimal(order.get("triggerPrice")) or None,
        source=source,
        created_ms=int(order["timestamp"]) if order.get("timestamp") else None,
        updated_ms=int(order["lastUpdateTimestamp"]) if order.get("lastUpdateTimestamp") else None,
    )


def position_report(position: dict[str, Any], updated_field: str) -> PositionReport | None:
    """``updated_field``: the ccxt key holding when the venue last changed the position. It differs by
    venue: ccxt puts Bybit's ``updatedTime`` in ``lastUpdateTimestamp`` and its ``createdTime`` in
    ``timestamp``, but Binance's ``updateTime`` in ``timestamp``. No fallback: a creation time read as
    an update time makes a changed position look older than it is to the lagging-list rules."""
    size = decimal(position.get("contracts"))
    side = position.get("side")
    if not size or side not in ("long", "short"):
        return None
    updated = position.get(updated_field)
    return PositionReport(
        symbol=position["symbol"], side=Side(side), size=size, entry_price=decimal(position.get("entryPrice")) or Decimal(0),
        updated_ms=int(updated) if updated else None,
    )
