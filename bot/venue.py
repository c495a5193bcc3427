"""What the execution core needs from a venue. One adapter per venue implements it over ccxt.

Every method raises only the bot's own errors (``bot.errors``); a lookup that finds nothing
returns ``None``. Symbols are ccxt unified symbols; quantities and prices are ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from typing import Protocol

from bot.values import Ack, ClientOrderId, OrderReport, PositionReport, Side, VenueOrderId


class Venue(Protocol):
    name: str

    async def start(self) -> None:
        """Load markets and start the private order stream."""

    async def close(self) -> None: ...

    async def create_entry(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        """A market order opening ``side``."""

    async def create_stop(
        self, symbol: str, side: Side, qty: Decimal, trigger: Decimal, client_id: ClientOrderId
    ) -> Ack:
        """A reduce-only stop-market order protecting a ``side`` position."""

    async def create_close(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        """A reduce-only market order closing (part of) a ``side`` position."""

    async def cancel(self, symbol: str, venue_order_id: VenueOrderId, *, stop: bool) -> bool:
        """Cancel; False when the venue no longer holds it open."""

    def pushed(self, venue_order_id: VenueOrderId | None, client_id: ClientOrderId | None) -> OrderReport | None:
        """The latest stream push for this order, if any arrived."""

    async def wait_for_push(
        self, venue_order_id: VenueOrderId | None, client_id: ClientOrderId | None, timeout_s: float
    ) -> OrderReport | None: ...

    def next_push(self, timeout_s: float) -> Awaitable[None]:
        """Done when the next batch of order pushes after this call arrives, or after ``timeout_s``."""

    async def order_realtime(
        self, symbol: str, *, venue_order_id: VenueOrderId | None = None, client_id: ClientOrderId | None = None,
        stop: bool = False,
    ) -> OrderReport | None:
        """The venue's live order view (open orders, and recent closed ones where the venue keeps them)."""

    async def order_history(
        self, symbol: str, *, venue_order_id: VenueOrderId | None = None, client_id: ClientOrderId | None = None,
        stop: bool = False,
    ) -> OrderReport | None:
        """The venue's order history (closed orders)."""

    async def stop_outcome(self, symbol: str, venue_order_id: VenueOrderId) -> OrderReport | None:
        """What became of a stop of ours that is no longer open, as the venue's order queries tell it:
        the report, with what the stop's order executed in ``filled`` (None when the venue no longer
        knows the stop)."""

    async def time_ms(self) -> int:
        """The venue's clock, epoch milliseconds (its server-time endpoint)."""

    @property
    def clock_tolerance_ms(self) -> int:
        """How far the venue's clock can be ahead of ours while it still accepts our signed calls (its
        receive window)."""

    async def position(self, symbol: str) -> PositionReport | None: ...

    async def positions(self) -> list[PositionReport]: ...

    async def open_stops(self) -> list[OrderReport]:
        """Every open reduce-only stop order on the account."""

    async def stop_trigger(self, symbol: str, side: Side, price: Decimal) -> Decimal:
        """``price`` on the symbol's tick, rounded away from the market for a ``side`` position's stop;
        ``Rejected`` when no such stop can exist (unlisted symbol, a trigger at or below zero)."""
