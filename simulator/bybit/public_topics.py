"""Bybit's public market topics beside ``tickers``: ``orderbook.{depth}.{symbol}``,
``publicTrade.{symbol}`` and ``kline.{interval}.{symbol}`` (ccxt.pro's ``watch_order_book``,
``watch_trades`` and ``watch_ohlcv``).

Each is built from the engine's own state (the book of ``engine/book.py``, the fills on the tape,
the candles of the tape) and pushed when a batch of engine events changes it. A book topic sends a
snapshot on subscribing and then deltas (a level's new quantity, "0" when it is gone; depth 1 sends
snapshots only, as Bybit does); a kline topic sends the current candle, and a candle again with
``confirm`` true once a later one has begun (sent with the first push after it closed: the venue
keeps no timers of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from simulator.bybit.handlers.market import KLINE_MINUTES
from simulator.bybit.wire import plain
from simulator.engine.book import changed_levels
from simulator.engine.events import EngineEvent, Executed, OrderChanged, TickerChanged
from simulator.engine.tape import Candle
from simulator.engine.venue import Engine

BOOK_DEPTHS = frozenset({1, 50, 200, 500, 1000})
_TICKS = {1: "PlusTick", -1: "MinusTick"}


class PublicTopics:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._last_trade: dict[str, tuple[Decimal, str]] = {}  # symbol -> (price, tick direction)
        self._ticks: dict[str, str] = {}  # the current batch's fills: exec id -> tick direction
        self._books: dict[tuple[str, int], tuple[int, Any]] = {}  # (symbol, depth) -> (book_seq, book): one per state

    def observe(self, batch: Sequence[EngineEvent]) -> None:
        """Once a batch, before any push: the tick direction of every fill, whoever listens (one
        market, one sequence of trades; a subscriber's count must not change it)."""
        self._ticks = {}
        for e in batch:
            if isinstance(e, Executed) and e.execution.is_trade:
                self._ticks[e.execution.exec_id] = self._tick(str(e.execution.symbol), e.execution.price)

    def known(self, topic: str) -> bool:
        parts = topic.split(".")
        listed = {str(i.symbol) for i in self._engine.instruments()}
        if len(parts) == 3 and parts[0] == "orderbook":
            return parts[1].isdigit() and int(parts[1]) in BOOK_DEPTHS and parts[2] in listed
        if len(parts) == 3 and parts[0] == "kline":
            return parts[1] in KLINE_MINUTES and parts[2] in listed
        return len(parts) == 2 and parts[0] == "publicTrade" and parts[1] in listed

    def on_subscribe(self, topic: str, state: dict[str, Any]) -> dict[str, Any] | None:
        """What a new subscriber gets at once: the book's snapshot, the current candle; trades: nothing."""
        kind, *rest = topic.split(".")
        if kind == "orderbook":
            return self._book_message(topic, int(rest[0]), rest[1], state, snapshot=True)
        if kind == "kline":
            return self._kline_messages(topic, rest[0], rest[1], state, moved=True)[-1]
        return None

    def pushes(self, topic: str, batch: Sequence[EngineEvent], state: dict[str, Any]) -> list[dict[str, Any]]:
        """What ``batch`` makes this topic push to one subscriber (``state``: what it was sent before)."""
        kind, *rest = topic.split(".")
        symbol = rest[-1]
        moved = any(isinstance(e, TickerChanged) and e.market.symbol == symbol for e in batch)
        fills = [e.execution for e in batch
                 if isinstance(e, Executed) and e.execution.is_trade and e.execution.symbol == symbol]
        if kind == "publicTrade":
            return [self._trades_message(topic, symbol, fills)] if fills else []
        if kind == "kline":
            return self._kline_messages(topic, rest[0], symbol, state, moved=moved or bool(fills))
        touched = moved or any(isinstance(e, OrderChanged) and e.order.symbol == symbol for e in batch)
        message = self._book_message(topic, int(rest[0]), symbol, state, snapshot=False) if touched else None
        return [message] if message is not None else []

    # ------------------------------------------------------------------ order book

    def _book_message(self, topic: str, depth: int, symbol: str, state: dict[str, Any], *,
                      snapshot: bool) -> dict[str, Any] | None:
        engine, inst = self._engine, self._engine.instrument(symbol)
        seq = engine.book_seq(symbol)
        cached = self._books.get((symbol, depth))
        if cached is None or cached[0] != seq:  # built once per book state, however many subscribe
            cached = self._books[(symbol, depth)] = (seq, engine.book(symbol, depth))
        book = cached[1]
        bids, asks = dict(book.bids), dict(book.asks)
        if snapshot or depth == 1:
            kind, sent_bids, sent_asks = "snapshot", bids, asks
        else:
            sent_bids, sent_asks = changed_levels(state["bids"], bids), changed_levels(state["asks"], asks)
            if not sent_bids and not sent_asks:
                return None
            kind = "delta"
        if depth == 1 and not snapshot and (bids, asks) == (state.get("bids"), state.get("asks")):
            return None
        state["bids"], state["asks"] = bids, asks
        # u: this topic's update id, from the book's at the snapshot and one more each message after (in
        # sequence, as Bybit's); seq: the book's version, the same for every subscriber of one state.
        state["u"] = engine.book_seq(symbol) if kind == "snapshot" and depth != 1 else state.get("u", 0) + 1
        now = engine.now_ms()

        def levels(side: dict[Decimal, Decimal], best_first: bool) -> list[list[str]]:
            return [[inst.format_price(p), inst.format_qty(q)] for p, q in sorted(side.items(), reverse=best_first)]

        return {"topic": topic, "type": kind, "ts": now,
                "data": {"s": symbol, "b": levels(sent_bids, True), "a": levels(sent_asks, False),
                         "u": state["u"], "seq": engine.book_seq(symbol)}, "cts": now}

    # ------------------------------------------------------------------ trades

    def _trades_message(self, topic: str, symbol: str, fills: Sequence[Any]) -> dict[str, Any]:
        inst = self._engine.instrument(symbol)
        rows = []
        for fill in fills:
            taker_buy = (fill.side.sign > 0) != fill.is_maker
            rows.append({"T": fill.exec_ms, "s": symbol, "S": "Buy" if taker_buy else "Sell", "v": plain(fill.qty),
                         "p": inst.format_price(fill.price), "L": self._ticks[fill.exec_id], "i": fill.exec_id,
                         "BT": False, "RPI": False, "seq": fill.seq})
        return {"topic": topic, "type": "snapshot", "ts": self._engine.now_ms(), "data": rows}

    def _tick(self, symbol: str, price: Decimal) -> str:
        before = self._last_trade.get(symbol)
        if before is None:
            direction = "ZeroPlusTick"
        elif price != before[0]:
            direction = _TICKS[1 if price > before[0] else -1]
        else:
            direction = "ZeroPlusTick" if before[1] in ("PlusTick", "ZeroPlusTick") else "ZeroMinusTick"
        self._last_trade[symbol] = (price, direction)
        return direction

    # ------------------------------------------------------------------ candles

    def _kline_messages(self, topic: str, interval: str, symbol: str, state: dict[str, Any], *,
                        moved: bool) -> list[dict[str, Any]]:
        if not moved:
            return []
        step = KLINE_MINUTES[interval] * 60_000
        closed, current = self._engine.tape(symbol).since(step, now_ms=self._engine.now_ms(),
                                                          last_open_ms=state.get("open_ms"), weekly=interval == "W")
        state["open_ms"] = current.open_ms
        return [*(self._kline(topic, interval, symbol, c, step, confirm=True) for c in closed),
                self._kline(topic, interval, symbol, current, step, confirm=False)]

    def _kline(self, topic: str, interval: str, symbol: str, c: Candle, step: int, *, confirm: bool) -> dict[str, Any]:
        price = self._engine.instrument(symbol).format_price
        now = self._engine.now_ms()
        return {"topic": topic, "type": "snapshot", "ts": now, "data": [{
            "start": c.open_ms, "end": c.open_ms + step - 1, "interval": interval, "open": price(c.open),
            "close": price(c.close), "high": price(c.high), "low": price(c.low), "volume": plain(c.volume),
            "turnover": plain(c.turnover), "confirm": confirm, "timestamp": now}]}


