"""Why the engine refuses a request, independent of any venue's error codes.

Each wire layer maps a ``RejectReason`` to its venue's own code and message; the
``detail`` carries the values those messages quote.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType


class RejectReason(enum.Enum):
    UNKNOWN_SYMBOL = "unknown symbol"
    SYMBOL_NOT_TRADING = "symbol not trading"
    QTY_BELOW_MIN = "qty below minimum"
    QTY_ABOVE_MAX = "qty above maximum"
    QTY_OFF_STEP = "qty not a multiple of the step"
    PRICE_OFF_TICK = "price not a multiple of the tick"
    PRICE_OUT_OF_RANGE = "price out of range"
    BELOW_MIN_NOTIONAL = "order value below minimum notional"
    INSUFFICIENT_BALANCE = "insufficient available balance"
    REDUCE_ONLY_NOTHING_TO_REDUCE = "reduce-only order with no position to reduce"
    ORDER_NOT_FOUND = "order not found or already closed"
    DUPLICATE_CLIENT_ORDER_ID = "duplicate client order id"
    TRIGGER_NOT_ABOVE_PRICE = "rising trigger at or below current price"
    TRIGGER_NOT_BELOW_PRICE = "falling trigger at or above current price"
    STOP_LOSS_WRONG_SIDE = "stop-loss on the wrong side of the base price"
    TAKE_PROFIT_WRONG_SIDE = "take-profit on the wrong side of the base price"
    NO_POSITION_FOR_TPSL = "tp/sl for a zero position"
    TPSL_NOT_MODIFIED = "tp/sl not modified"
    LEVERAGE_NOT_MODIFIED = "leverage not modified"
    LEVERAGE_OUT_OF_RANGE = "leverage out of range"
    LEVERAGE_OFF_STEP = "leverage not a multiple of the leverage step"
    POSITION_MODE_NOT_MODIFIED = "position mode not modified"
    ORDER_NOT_MODIFIED = "an amendment that changes nothing"
    QTY_BELOW_FILLED = "amended qty below the filled qty"
    AMEND_UNSUPPORTED = "an amendment the simulator does not model"


class Rejection(Exception):
    """The engine refused a request; nothing changed."""

    def __init__(self, reason: RejectReason, **detail: object) -> None:
        self.reason = reason
        self.detail: Mapping[str, object] = MappingProxyType(dict(detail))
        values = ", ".join(f"{k}={v}" for k, v in detail.items())
        super().__init__(f"{reason.value}" + (f" ({values})" if values else ""))
