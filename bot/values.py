"""The bot's domain values: typed ids, sides, intents and the reports venue truth arrives as.

Money and quantities are ``Decimal``; symbols are ccxt's unified symbols (``GIGA/USDT:USDT``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import NewType

IntentId = NewType("IntentId", str)
VenueOrderId = NewType("VenueOrderId", str)
ClientOrderId = NewType("ClientOrderId", str)
PositionId = NewType("PositionId", int)


class Side(enum.Enum):
    LONG = "long"
    SHORT = "short"

    @property
    def entry(self) -> str:
        """The order side that opens this position."""
        return "buy" if self is Side.LONG else "sell"

    @property
    def exit(self) -> str:
        """The order side that reduces this position."""
        return "sell" if self is Side.LONG else "buy"

    def stop_price(self, entry_price: Decimal, fraction: Decimal) -> Decimal:
        """The stop-loss trigger ``fraction`` away from ``entry_price`` on the losing side."""
        return entry_price * (1 - fraction) if self is Side.LONG else entry_price * (1 + fraction)


class OrderStatus(enum.Enum):
    OPEN = "open"  # resting, untriggered or partly filled and still working
    CLOSED = "closed"  # done; ``filled`` says how much traded
    CANCELED = "canceled"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self is not OrderStatus.OPEN


class Role(enum.Enum):
    ENTRY = "entry"
    STOP = "stop"
    CLOSE = "close"


@dataclass(frozen=True, slots=True)
class Intent:
    """What the caller asked for; everything the bot sends for it is derived from it."""

    intent_id: IntentId
    symbol: str
    side: Side
    qty: Decimal
    stop_fraction: Decimal  # stop-loss distance from the entry price, e.g. 0.02
    created_ms: int

    def client_id(self, role: Role, attempt: int = 0) -> ClientOrderId:
        """The idempotent client order id of this intent's order in ``role`` (Bybit allows 36 chars)."""
        suffix = {Role.ENTRY: "e", Role.STOP: "s", Role.CLOSE: "c"}[role]
        return ClientOrderId(f"{self.intent_id}-{suffix}{attempt or ''}")


@dataclass(frozen=True, slots=True)
class OrderReport:
    """One order as a venue source showed it. Only complete answers become reports."""

    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId | None
    symbol: str
    side: str  # "buy" | "sell"
    status: OrderStatus
    qty: Decimal
    filled: Decimal
    avg_price: Decimal | None
    reduce_only: bool
    trigger_price: Decimal | None
    source: str  # which source told us: "create", "push", "realtime", "history", ...
    created_ms: int | None = None  # when the venue created it, where the source says
    updated_ms: int | None = None  # when the venue last changed it (a fill, a cancel), where the source says


@dataclass(frozen=True, slots=True)
class PositionReport:
    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    updated_ms: int | None = None  # when the venue last changed it (venue time), where the source says


@dataclass(frozen=True, slots=True)
class VenueClose:
    """The venue time by which the bot's own close took exposure off a symbol. A fill's time (``side``
    None: the fill moved the position, so any report older than it is stale), or the time the venue
    refused a reduce-only close on ``side`` for want of anything to reduce (only that side was flat)."""

    venue_ms: int
    side: Side | None


@dataclass(frozen=True, slots=True)
class Ack:
    """A venue accepted an order. Bybit answers with ids only; a full answer also carries the order."""

    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId | None
    report: OrderReport | None = None


@dataclass(frozen=True, slots=True)
class Fill:
    """How an entry ended on the venue, and which source established it."""

    qty: Decimal
    avg_price: Decimal
    source: str
