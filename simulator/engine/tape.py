"""Each instrument's price and trade history since it was listed, and the candles built from it.

Prices move only when a test, a scenario or a control call moves them, so a candle is exact: its
open is the price standing at its start, its high, low and close come from the moves inside it,
and its volume from the fills inside it. A candle with no move is flat at the standing price.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal

WEEK_OFFSET_MS = 4 * 86_400_000  # 1970-01-05, the first Monday after the epoch
MISSED_CANDLES = 500  # closed candles a stream sends at most with one push after a quiet spell


@dataclass(frozen=True, slots=True)
class Candle:
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal  # contracts traded
    turnover: Decimal  # quote value traded
    trades: int
    taker_buy_volume: Decimal  # of the volume, what buyers took from the book
    taker_buy_turnover: Decimal


@dataclass(frozen=True, slots=True)
class TapeTrade:
    """One fill as the market saw it (a public trade): who took, at what price."""

    ms: int
    qty: Decimal
    price: Decimal
    taker_buy: bool
    exec_id: str


class Tape:
    """What moved one instrument's market, in time order, from its listing at ``since_ms``."""

    def __init__(self, since_ms: int, price: Decimal) -> None:
        self.since_ms = since_ms
        self._move_ms: list[int] = [since_ms]
        self._prices: list[Decimal] = [price]
        self._trade_ms: list[int] = []
        self._trades: list[tuple[Decimal, Decimal, bool]] = []  # (qty, price, taken by a buyer)
        self._exec_ids: list[str] = []
        self._replaced = False

    @property
    def version(self) -> tuple[int, int, bool]:
        """Changes whenever the tape does (a cache key)."""
        return len(self._move_ms), len(self._trade_ms), self._replaced

    def moved(self, ms: int, price: Decimal, *, orders_resting: bool = False) -> None:
        if ms == self.since_ms and not self._replaced and not self._trade_ms and not orders_resting:
            # Set at the listing instant before anything traded or rested: the listing price never stood.
            # (An order resting then may fill at its own price as this move sweeps it: the price stood.)
            self._prices[0], self._replaced = price, True
            return
        self._move_ms.append(ms)
        self._prices.append(price)

    def traded(self, ms: int, qty: Decimal, price: Decimal, *, taker_buy: bool, exec_id: str) -> None:
        self._trade_ms.append(ms)
        self._trades.append((qty, price, taker_buy))
        self._exec_ids.append(exec_id)

    def trade_span(self, start_ms: int | None = None, end_ms: int | None = None) -> range:
        """The indexes of the fills from ``start_ms`` up to and including ``end_ms`` (either open), in
        time order: slice it before ``trades`` builds anything (a run may hold many fills)."""
        lo = 0 if start_ms is None else bisect.bisect_left(self._trade_ms, start_ms)
        hi = len(self._trade_ms) if end_ms is None else bisect.bisect_right(self._trade_ms, end_ms)
        return range(lo, hi)

    def trades(self, indexes: range) -> list[TapeTrade]:
        return [TapeTrade(self._trade_ms[i], *self._trades[i], self._exec_ids[i]) for i in indexes]

    def exec_id_at(self, index: int) -> str:
        return self._exec_ids[index]

    def last_trade_qty(self) -> Decimal | None:
        return self._trades[-1][0] if self._trades else None

    def query(self, interval_ms: int, *, now_ms: int, start_ms: int | None, end_ms: int | None, limit: int,
              weekly: bool = False, from_containing: bool = False) -> list[Candle]:
        """The candles a kline query asks for, in time order. With ``start_ms``, the first ``limit``
        from it (the one it falls in too with ``from_containing``; none before the listing); else the
        last ``limit`` up to ``end_ms`` or now, the current one included. Weekly candles open on
        Monday 00:00 UTC (the epoch was a Thursday); others on the epoch's grid."""
        offset = WEEK_OFFSET_MS if weekly else 0

        def opening(ms: int) -> int:  # the open of the candle ``ms`` falls in
            return ms - (ms - offset) % interval_ms

        last = opening(now_ms if end_ms is None else min(end_ms, now_ms))
        if start_ms is not None:
            inside = (start_ms - offset) % interval_ms and not from_containing
            first = max(opening(start_ms) + (interval_ms if inside else 0), opening(self.since_ms))
            last = min(last, first + (limit - 1) * interval_ms)
        else:
            first = last - (limit - 1) * interval_ms
        return self.candles(interval_ms, first_open_ms=first, last_open_ms=last) if first <= last else []

    def since(self, interval_ms: int, *, now_ms: int, last_open_ms: int | None,
              weekly: bool = False) -> tuple[list[Candle], Candle]:
        """For a candle stream: the candles that closed since the one opening at ``last_open_ms`` (it
        included, the quiet ones too, at most ``MISSED_CANDLES``) and the current one. The venues push
        each closed candle as it closes; with no timers of their own, they send them with the next push."""
        [current] = self.query(interval_ms, now_ms=now_ms, start_ms=None, end_ms=None, limit=1, weekly=weekly)
        if last_open_ms is None or last_open_ms >= current.open_ms:
            return [], current
        first = max(last_open_ms, current.open_ms - MISSED_CANDLES * interval_ms)
        return self.candles(interval_ms, first_open_ms=first, last_open_ms=current.open_ms - interval_ms), current

    def candles(self, interval_ms: int, *, first_open_ms: int, last_open_ms: int) -> list[Candle]:
        """Candles of ``interval_ms`` opening from ``first_open_ms`` to ``last_open_ms`` (both on the
        interval's grid), in time order; none opens before the one the listing falls in."""
        listed_in = self.since_ms - (self.since_ms - first_open_ms) % interval_ms
        start = max(first_open_ms, listed_in)
        return [self._candle(open_ms, interval_ms) for open_ms in range(start, last_open_ms + 1, interval_ms)]

    def window(self, start_ms: int, end_ms: int) -> Candle:
        """What happened from ``start_ms`` up to but excluding ``end_ms`` as one candle (a rolling
        24 h ticker's open, high, low and volume); from the listing if it starts before it."""
        return self._candle(start_ms, end_ms - start_ms)

    def price_at(self, ms: int) -> Decimal:
        """The price standing at ``ms`` (after every move at that instant); the listing price before it."""
        return self._prices[max(bisect.bisect_right(self._move_ms, ms) - 1, 0)]

    def _candle(self, open_ms: int, interval_ms: int) -> Candle:
        end_ms = open_ms + interval_ms
        # Opened by the first move at its opening instant, if one came then; else by the price
        # standing (moves at one instant all count: several can, a fill between them).
        first, last = bisect.bisect_left(self._move_ms, open_ms), bisect.bisect_left(self._move_ms, end_ms)
        inside = self._prices[first:last]
        if not inside or self._move_ms[first] != open_ms:
            inside = [self._prices[max(first - 1, 0)], *inside]
        t0, t1 = bisect.bisect_left(self._trade_ms, open_ms), bisect.bisect_left(self._trade_ms, end_ms)
        trades = self._trades[t0:t1]
        bought = [(q, p) for q, p, taker_buy in trades if taker_buy]
        return Candle(open_ms=open_ms, open=inside[0], high=max(inside), low=min(inside), close=inside[-1],
                      volume=sum((q for q, _, _ in trades), Decimal(0)),
                      turnover=sum((q * p for q, p, _ in trades), Decimal(0)), trades=len(trades),
                      taker_buy_volume=sum((q for q, _ in bought), Decimal(0)),
                      taker_buy_turnover=sum((q * p for q, p in bought), Decimal(0)))
