"""Identifiers and enumerations shared by the whole engine.

Venue order ids and client order ids are distinct types on purpose: mixing them up is
exactly the confusion the GIGAUSDT incident report shows.
"""

from __future__ import annotations

import enum
from typing import NewType

AccountId = NewType("AccountId", str)
Symbol = NewType("Symbol", str)
VenueOrderId = NewType("VenueOrderId", str)
ClientOrderId = NewType("ClientOrderId", str)
ExecId = NewType("ExecId", str)


class Side(enum.Enum):
    BUY = "Buy"
    SELL = "Sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class OrderType(enum.Enum):
    MARKET = "Market"
    LIMIT = "Limit"


class TimeInForce(enum.Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


class TriggerDirection(enum.Enum):
    """Which way the price must cross the trigger price."""

    RISES_TO = 1
    FALLS_TO = 2


class OrderStatus(enum.Enum):
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    UNTRIGGERED = "Untriggered"
    TRIGGERED = "Triggered"
    FILLED = "Filled"
    CANCELLED = "Cancelled"
    REJECTED = "Rejected"
    DEACTIVATED = "Deactivated"
    PARTIALLY_FILLED_CANCELLED = "PartiallyFilledCanceled"

    @property
    def is_open(self) -> bool:
        return self in _OPEN_STATUSES


_OPEN_STATUSES = frozenset(
    {OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED, OrderStatus.TRIGGERED}
)


class StopOrderType(enum.Enum):
    """What kind of conditional order this is (Bybit's ``stopOrderType``)."""

    NONE = ""
    STOP = "Stop"
    STOP_LOSS = "StopLoss"
    TAKE_PROFIT = "TakeProfit"
    PARTIAL_STOP_LOSS = "PartialStopLoss"
    PARTIAL_TAKE_PROFIT = "PartialTakeProfit"


class CreateType(enum.Enum):
    """Who created the order (Bybit's ``createType``)."""

    BY_USER = "CreateByUser"
    BY_STOP_LOSS = "CreateByStopLoss"
    BY_TAKE_PROFIT = "CreateByTakeProfit"
    BY_PARTIAL_STOP_LOSS = "CreateByPartialStopLoss"
    BY_PARTIAL_TAKE_PROFIT = "CreateByPartialTakeProfit"
    BY_STOP_ORDER = "CreateByStopOrder"


class CancelType(enum.Enum):
    """Why an order stopped being open without filling (Bybit's ``cancelType``)."""

    UNKNOWN = "UNKNOWN"
    BY_USER = "CancelByUser"
    BY_REDUCE_ONLY = "CancelByReduceOnly"
    BY_TPSL_CLEAR = "CancelByTpSlTsClear"


class TpslMode(enum.Enum):
    FULL = "Full"
    PARTIAL = "Partial"
