"""The venue-agnostic exchange engine: instruments, accounts, orders, positions, fills, fees."""

from simulator.engine.accounts import Account, Wallet
from simulator.engine.events import (
    EngineEvent,
    Executed,
    OrderChanged,
    PositionChanged,
    WalletChanged,
)
from simulator.engine.instruments import Instrument
from simulator.engine.orders import Order, OrderRequest
from simulator.engine.positions import Position
from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.values import (
    AccountId,
    ClientOrderId,
    CreateType,
    ExecId,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    Symbol,
    TimeInForce,
    TriggerDirection,
    VenueOrderId,
)
from simulator.engine.venue import Engine, EngineConfig

__all__ = [
    "Account", "AccountId", "ClientOrderId", "CreateType", "Engine", "EngineConfig", "EngineEvent",
    "ExecId", "Executed", "Instrument", "Order", "OrderChanged", "OrderRequest", "OrderStatus",
    "OrderType", "Position", "PositionChanged", "RejectReason", "Rejection", "Side", "StopOrderType",
    "Symbol", "TimeInForce", "TriggerDirection", "VenueOrderId", "Wallet", "WalletChanged",
]
