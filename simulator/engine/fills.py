"""Executions (fills) as immutable records."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.values import (
    AccountId,
    ClientOrderId,
    CreateType,
    ExecId,
    OrderType,
    Side,
    StopOrderType,
    Symbol,
    VenueOrderId,
)

TRADE, FUNDING = "Trade", "Funding"


@dataclass(frozen=True, slots=True, kw_only=True)
class Execution:
    exec_id: ExecId
    account_id: AccountId
    order_id: VenueOrderId
    client_order_id: ClientOrderId | None
    symbol: Symbol
    side: Side
    order_type: OrderType
    stop_order_type: StopOrderType
    create_type: CreateType
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_rate: Decimal
    is_maker: bool
    order_price: Decimal
    order_qty: Decimal
    leaves_qty: Decimal
    closed_qty: Decimal
    realised_pnl: Decimal  # PnL this fill realised on the part of the position it closed, before fees
    mark_price: Decimal
    exec_ms: int
    seq: int
    exec_type: str = "Trade"  # or FUNDING: a funding payment, which trades nothing

    @property
    def value(self) -> Decimal:
        return self.qty * self.price

    @property
    def is_trade(self) -> bool:
        return self.exec_type == TRADE
