"""What the engine tells its listeners (WebSocket pushers, the trace) after each change."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.engine.accounts import WalletView
from simulator.engine.fills import Execution
from simulator.engine.market import MarketState
from simulator.engine.orders import Order
from simulator.engine.positions import Position


@dataclass(frozen=True, slots=True)
class OrderChanged:
    order: Order
    amended: bool = False  # changed in place by its owner (Binance pushes these as AMENDMENT)


@dataclass(frozen=True, slots=True)
class Executed:
    execution: Execution


@dataclass(frozen=True, slots=True)
class PositionChanged:
    position: Position


@dataclass(frozen=True, slots=True)
class WalletChanged:
    wallet: WalletView


@dataclass(frozen=True, slots=True)
class TickerChanged:
    market: MarketState


EngineEvent = OrderChanged | Executed | PositionChanged | WalletChanged | TickerChanged
