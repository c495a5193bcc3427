"""Orders as immutable values, and the one table of lifecycle transitions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.values import (
    AccountId,
    CancelType,
    ClientOrderId,
    CreateType,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    Symbol,
    TimeInForce,
    TpslMode,
    TriggerDirection,
    VenueOrderId,
)

_S = OrderStatus

TRANSITIONS: frozenset[tuple[OrderStatus, OrderStatus]] = frozenset(
    {
        (_S.NEW, _S.PARTIALLY_FILLED),
        (_S.NEW, _S.FILLED),
        (_S.NEW, _S.CANCELLED),
        (_S.PARTIALLY_FILLED, _S.PARTIALLY_FILLED),
        (_S.PARTIALLY_FILLED, _S.FILLED),
        # Linear contracts report a cancelled partial fill as Cancelled (PartiallyFilledCanceled is spot-only).
        (_S.PARTIALLY_FILLED, _S.CANCELLED),
        (_S.UNTRIGGERED, _S.TRIGGERED),
        (_S.UNTRIGGERED, _S.CANCELLED),
        # Position TP/SL orders are deactivated when the position they guard goes flat.
        (_S.UNTRIGGERED, _S.DEACTIVATED),
        # A triggered conditional limit order rests on the book like any limit order.
        (_S.TRIGGERED, _S.NEW),
        (_S.TRIGGERED, _S.PARTIALLY_FILLED),
        (_S.TRIGGERED, _S.FILLED),
        (_S.TRIGGERED, _S.CANCELLED),
        # A triggered reduce-only order finds no position left to reduce.
        (_S.TRIGGERED, _S.DEACTIVATED),
    }
)
INITIAL_STATUSES = frozenset({_S.NEW, _S.UNTRIGGERED, _S.REJECTED})


class InvalidTransition(Exception):
    """An order was asked to move along an edge the lifecycle table does not have."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """What a client asked for, already parsed and typed by a wire layer."""

    symbol: Symbol
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    client_order_id: ClientOrderId | None = None
    reduce_only: bool = False
    close_on_trigger: bool = False
    trigger_price: Decimal | None = None
    trigger_direction: TriggerDirection | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None

    @property
    def is_conditional(self) -> bool:
        return self.trigger_price is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    order_id: VenueOrderId
    client_order_id: ClientOrderId | None
    account_id: AccountId
    symbol: Symbol
    side: Side
    order_type: OrderType
    price: Decimal
    qty: Decimal
    time_in_force: TimeInForce
    status: OrderStatus
    created_ms: int
    updated_ms: int
    last_price_on_created: Decimal
    filled_qty: Decimal = Decimal(0)
    cum_exec_value: Decimal = Decimal(0)
    cum_exec_fee: Decimal = Decimal(0)
    reduce_only: bool = False
    close_on_trigger: bool = False
    trigger_price: Decimal | None = None
    trigger_direction: TriggerDirection | None = None
    stop_order_type: StopOrderType = StopOrderType.NONE
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    tpsl_mode: TpslMode | None = None
    create_type: CreateType = CreateType.BY_USER
    cancel_type: CancelType = CancelType.UNKNOWN
    reject_reason: str = "EC_NoError"

    def __post_init__(self) -> None:
        if self.qty < 0:
            raise ValueError(f"Order {self.order_id}: qty must not be negative, was {self.qty}")

    @property
    def leaves_qty(self) -> Decimal:
        if not self.status.is_open:
            return Decimal(0)
        return self.qty - self.filled_qty

    @property
    def avg_price(self) -> Decimal | None:
        if self.filled_qty == 0:
            return None
        return self.cum_exec_value / self.filled_qty

    @property
    def is_conditional(self) -> bool:
        return self.trigger_price is not None

    @property
    def is_position_tpsl(self) -> bool:
        """A stop-loss or take-profit that guards the whole position (tpslMode Full)."""
        return self.stop_order_type in (StopOrderType.STOP_LOSS, StopOrderType.TAKE_PROFIT)

    def transition(self, to: OrderStatus, *, ms: int, **changes: object) -> Order:
        if (self.status, to) not in TRANSITIONS:
            raise InvalidTransition(
                f"order {self.order_id}: {self.status.name} -> {to.name} is not in the lifecycle table"
            )
        return dataclasses.replace(self, status=to, updated_ms=ms, **changes)  # type: ignore[arg-type]

    def with_fill(self, qty: Decimal, price: Decimal, fee: Decimal, *, ms: int) -> Order:
        filled = self.filled_qty + qty
        if filled > self.qty:
            raise ValueError(f"order {self.order_id}: fill of {qty} would exceed qty {self.qty} (filled {self.filled_qty})")
        status = OrderStatus.FILLED if filled == self.qty else OrderStatus.PARTIALLY_FILLED
        return self.transition(
            status,
            ms=ms,
            filled_qty=filled,
            cum_exec_value=self.cum_exec_value + qty * price,
            cum_exec_fee=self.cum_exec_fee + fee,
        )
