"""The order book a venue shows: the engine's one-tick spread around the last price, and the
resting limit orders of every account at their prices.

The engine has no other traders, so the book is a view, not what matching walks: a market order
fills whole at the last price (up to the instrument's market-order cap; ``LiquidityCap`` fills it
in part), whatever its side. The synthetic levels say as much: the best ask is the last price, the
best bid one tick below, and each level holds ``max_market_qty``, what a market order can take at
once. A resting limit order adds its open quantity to its price's level (buys rest below the last
price, sells above: one that reaches it fills).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.instruments import Instrument
from simulator.engine.orders import Order
from simulator.engine.values import OrderStatus, OrderType, Side

_RESTING = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})  # not a conditional order yet to trigger

Level = tuple[Decimal, Decimal]  # (price, quantity)


@dataclass(frozen=True, slots=True)
class Book:
    bids: tuple[Level, ...]  # best (highest) first
    asks: tuple[Level, ...]  # best (lowest) first

    @property
    def best_bid(self) -> Level:
        return self.bids[0]

    @property
    def best_ask(self) -> Level:
        return self.asks[0]


def changed_levels(before: dict[Decimal, Decimal], after: dict[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """What a book delta carries for one side: new or changed quantities, and 0 for a level gone."""
    changed = {p: q for p, q in after.items() if before.get(p) != q}
    changed.update({p: Decimal(0) for p in before if p not in after})
    return changed


def book(inst: Instrument, last: Decimal, resting: Iterable[Order], *, depth: int) -> Book:
    """The ``depth`` best levels of each side (fewer near the minimum and maximum prices)."""
    if depth < 1:
        raise ValueError(f"a book has at least one level a side, asked for depth={depth}")
    tick, nominal = inst.tick_size, inst.max_market_qty
    asks = {last + k * tick: nominal for k in range(depth) if last + k * tick <= inst.max_price}
    bids = {last - k * tick: nominal for k in range(1, depth + 1) if last - k * tick >= inst.min_price}
    if not bids:  # the last price sits at the minimum: a bid there still shows a two-sided market
        bids = {last: nominal}
    if not asks:  # above the maximum (a price set past the filter by hand): an ask there, as above
        asks = {last: nominal}
    for order in resting:
        if order.order_type is not OrderType.LIMIT or order.status not in _RESTING or order.price is None:
            continue
        side = bids if order.side is Side.BUY else asks
        if order.price in side:
            side[order.price] += order.qty - order.filled_qty
    return Book(bids=tuple(sorted(bids.items(), reverse=True)), asks=tuple(sorted(asks.items())))
