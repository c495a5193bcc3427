"""Binance's market streams (``/market/ws/<n>`` and ``/public/ws/<n>``): SUBSCRIBE to
``<symbol>@miniTicker``, ``@bookTicker``, ``@aggTrade``, ``@trade``, ``@kline_<interval>``, ``@depth`` (the
diff stream ccxt.pro's ``watch_order_book`` follows, 1,000 levels a side, with ``U``/``u``/``pu``
continuing the REST snapshot's ``lastUpdateId``) and ``@depth<5|10|20>`` (the top levels whole).

Each is built from the engine's own state and pushed when a batch of engine events changes it; a
speed suffix (``@100ms``, ``@500ms``) is accepted and changes nothing. A kline sends the current
candle, and the one before closed (``x`` true) once a later one has begun (with the first push after
it: the venue keeps no timers). ``@markPrice`` (pushed every second on Binance) is not served.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from aiohttp import web

from simulator.binance.handlers.candles import KLINE_MINUTES
from simulator.binance.ids import NumericIds
from simulator.binance.render import EIGHT_PLACES, fixed
from simulator.binance.streams import ACTOR, PING_EVERY_S
from simulator.bybit.ws_connection import Connection, InternalError, closing, serve_frames
from simulator.engine.book import changed_levels
from simulator.engine.events import EngineEvent, Executed, OrderChanged, TickerChanged
from simulator.engine.fills import Execution
from simulator.engine.tape import Candle
from simulator.engine.venue import Engine
from simulator.faults.ws import FrameRouter
from virtualtime.trace import NO_TRACE, Recorder

DIFF_DEPTH = 1000  # levels a side the diff stream follows (ccxt's snapshot asks for 1,000)
_STREAM = re.compile(r"(?P<symbol>[a-z0-9]+)@(?P<kind>miniTicker|bookTicker|aggTrade|trade|kline_(?P<interval>\w+)"
                     r"|depth(?P<levels>5|10|20)?)(@(100|250|500)ms)?")


class MarketStreams:
    def __init__(self, engine: Engine, ids: NumericIds, *, on_internal_error: InternalError,
                 trace: Recorder = NO_TRACE, router: FrameRouter | None = None) -> None:
        self._engine = engine
        self._ids = ids
        self._wire_ids = engine.ids.child()
        self._on_internal_error = on_internal_error
        self._trace = trace
        self.router = router
        self._connections: dict[Connection, None] = {}
        self._books: dict[str, tuple[int, dict[Decimal, Decimal], dict[Decimal, Decimal]]] = {}  # symbol -> last diff
        self._unsubscribe = engine.subscribe(self._on_batch)

    async def handler(self, request: web.Request) -> web.StreamResponse:
        return await serve_frames(
            request, self._wire_ids.uuid(), self._on_message, self._bad_frame,
            on_open=lambda conn: self._connections.setdefault(conn, None), on_close=self._closed,
            on_internal_error=self._on_internal_error, trace=self._trace, router=self.router, actor=ACTOR,
            heartbeat_s=PING_EVERY_S,
        )

    def _closed(self, conn: Connection) -> None:
        self._connections.pop(conn, None)

    def is_subscribed(self, stream: str) -> bool:
        """Whether any connection holds ``stream`` (``btcusdt@miniTicker``)."""
        return any(stream in conn.topics for conn in self._connections)

    def _bad_frame(self, conn: Connection, data: str) -> None:
        conn.send({"error": {"code": 3, "msg": f"Invalid JSON: {data[:80]}"}})

    def _on_message(self, conn: Connection, frame: dict[str, Any]) -> None:
        method, params, request_id = frame.get("method"), frame.get("params"), frame.get("id")
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS") or (
                method != "LIST_SUBSCRIPTIONS" and not isinstance(params, list)):
            conn.send({"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r} or params"},
                       "id": request_id})
            return
        if method == "LIST_SUBSCRIPTIONS":
            conn.send({"result": sorted(conn.topics), "id": request_id})
            return
        assert isinstance(params, list)
        unknown = [p for p in params if self._parse(str(p)) is None]
        if unknown:
            conn.send({"error": {"code": 2, "msg": f"Invalid request: this simulator doesn't (yet) support stream"
                                 f" {unknown[0]!r}; <symbol>@miniTicker, @bookTicker, @aggTrade, @trade, @kline_<interval>,"
                                 f" @depth, @depth<5|10|20>"}, "id": request_id})
            return
        if method == "SUBSCRIBE":
            for stream in (str(p) for p in params):
                match = self._parse(stream)
                if match is not None and match["kind"] == "depth" and not self._depth_held(match["symbol"]):
                    # The diff stream starts from the book as it is now (what the subscriber's REST
                    # snapshot will show, or a diff after it will cover), not from the last diff sent
                    # before nobody listened: that one is stale.
                    symbol = match["symbol"].upper()
                    book = self._engine.book(symbol, DIFF_DEPTH)
                    self._books[symbol] = (self._engine.book_seq(symbol), dict(book.bids), dict(book.asks))
            conn.topics.update(str(p) for p in params)
        else:
            conn.topics.difference_update(str(p) for p in params)
        conn.send({"result": None, "id": request_id})

    def _depth_held(self, symbol: str) -> bool:
        """Whether a connection already follows ``symbol``'s diff stream (its chain must not be reset)."""
        return any((m := self._parse(t)) is not None and m["kind"] == "depth" and m["symbol"] == symbol
                   for conn in self._connections for t in conn.topics)

    def _parse(self, stream: str) -> re.Match[str] | None:
        match = _STREAM.fullmatch(stream)
        if match is None or not any(str(i.symbol).lower() == match["symbol"] for i in self._engine.instruments()):
            return None
        if match["interval"] is not None and match["interval"] not in KLINE_MINUTES:
            return None
        return match

    # ------------------------------------------------------------------ pushes

    def _on_batch(self, batch: Sequence[EngineEvent]) -> None:
        moved = {str(e.market.symbol) for e in batch if isinstance(e, TickerChanged)}
        booked = moved | {str(e.order.symbol) for e in batch if isinstance(e, OrderChanged)}
        fills: dict[str, list[Execution]] = {}
        for e in batch:
            if isinstance(e, Executed) and e.execution.is_trade:
                fills.setdefault(str(e.execution.symbol), []).append(e.execution)
        diffs: dict[str, dict[str, Any] | None] = {}  # computed once a batch, and only for a subscribed symbol
        for conn in self._connections:
            for stream in sorted(conn.topics):  # a set: sorted, so pushes keep one order run to run
                match = self._parse(stream)
                if match is None:
                    continue
                symbol, kind = match["symbol"].upper(), match["kind"]
                for message in self._messages(conn, stream, symbol, kind, match, moved, booked, fills, diffs):
                    conn.send(message)

    def _messages(self, conn: Connection, stream: str, symbol: str, kind: str, match: re.Match[str],
                  moved: set[str], booked: set[str], fills: dict[str, list[Execution]],
                  diffs: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
        if kind == "miniTicker":
            return [self._mini_ticker(symbol)] if symbol in moved else []
        if kind == "aggTrade":
            return [self._agg_trade(f) for f in fills.get(symbol, [])]
        if kind == "trade":
            return [self._trade(f) for f in fills.get(symbol, [])]
        if kind.startswith("kline_"):
            return self._klines(conn, stream, symbol, match["interval"]) if symbol in moved or symbol in fills else []
        if symbol not in booked:
            return []
        if kind == "bookTicker":
            return self._book_ticker(conn, stream, symbol)
        if match["levels"] is not None:
            return [self._partial_depth(conn, stream, symbol, int(match["levels"]))]
        if symbol not in diffs:
            diffs[symbol] = self._diff(symbol)
        diff = diffs[symbol]
        return [diff] if diff is not None else []

    def _mini_ticker(self, symbol: str) -> dict[str, Any]:
        m, inst = self._engine.market(symbol), self._engine.instrument(symbol)
        tick, day = inst.tick_size, self._engine.day(symbol)
        return {"e": "24hrMiniTicker", "E": self._engine.now_ms(), "s": symbol, "c": fixed(m.last_price, tick),
                "o": fixed(day.open, tick), "h": fixed(day.high, tick), "l": fixed(day.low, tick),
                "v": fixed(day.volume, inst.qty_step), "q": fixed(day.turnover, EIGHT_PLACES)}

    def _agg_trade(self, fill: Execution) -> dict[str, Any]:
        inst, symbol = self._engine.instrument(fill.symbol), str(fill.symbol)
        number = self._ids.trade(fill.exec_id, symbol)
        taker_buy = (fill.side.sign > 0) != fill.is_maker
        return {"e": "aggTrade", "E": self._engine.now_ms(), "s": symbol, "a": self._ids.agg(fill.exec_id, symbol),
                "p": fixed(fill.price, inst.tick_size), "q": fixed(fill.qty, inst.qty_step), "f": number,
                "l": number, "T": fill.exec_ms, "m": not taker_buy}

    def _trade(self, fill: Execution) -> dict[str, Any]:
        inst, symbol = self._engine.instrument(fill.symbol), str(fill.symbol)
        taker_buy = (fill.side.sign > 0) != fill.is_maker
        return {"e": "trade", "E": self._engine.now_ms(), "T": fill.exec_ms, "s": symbol,
                "t": self._ids.trade(fill.exec_id, symbol), "p": fixed(fill.price, inst.tick_size),
                "q": fixed(fill.qty, inst.qty_step), "X": "MARKET", "m": not taker_buy}

    def _book_ticker(self, conn: Connection, stream: str, symbol: str) -> list[dict[str, Any]]:
        """The best bid and ask, when they differ from what this stream last sent."""
        top = self._engine.book(symbol, 1)
        current = {"b": [str(x) for x in top.best_bid], "a": [str(x) for x in top.best_ask]}
        if conn.last_sent.get(stream) == current:
            return []
        conn.last_sent[stream] = current
        inst, now = self._engine.instrument(symbol), self._engine.now_ms()
        (bid, bid_qty), (ask, ask_qty) = top.best_bid, top.best_ask
        return [{"e": "bookTicker", "u": self._engine.book_seq(symbol), "s": symbol,
                 "b": fixed(bid, inst.tick_size), "B": fixed(bid_qty, inst.qty_step),
                 "a": fixed(ask, inst.tick_size), "A": fixed(ask_qty, inst.qty_step), "T": now, "E": now}]

    def _partial_depth(self, conn: Connection, stream: str, symbol: str, levels: int) -> dict[str, Any]:
        book, seq = self._engine.book(symbol, levels), self._engine.book_seq(symbol)
        state = conn.last_sent.setdefault(stream, {})
        previous = state.get("u", seq - 1)  # pu: the u of the last message on this stream
        state["u"] = seq
        return self._depth_update(symbol, previous + 1, seq, previous, dict(book.bids), dict(book.asks))

    def _diff(self, symbol: str) -> dict[str, Any] | None:
        """The diff since the last one of ``symbol`` (shared by every subscriber, as Binance's update ids are)."""
        book, seq = self._engine.book(symbol, DIFF_DEPTH), self._engine.book_seq(symbol)
        bids, asks = dict(book.bids), dict(book.asks)
        last = self._books.get(symbol)
        self._books[symbol] = (seq, bids, asks)
        assert last is not None, "a subscription to the diff stream starts its state"
        last_u, last_bids, last_asks = last
        changed_bids, changed_asks = changed_levels(last_bids, bids), changed_levels(last_asks, asks)
        if not changed_bids and not changed_asks:
            self._books[symbol] = last  # nothing to tell: the next diff continues from the last one sent
            return None
        return self._depth_update(symbol, last_u + 1, seq, last_u, changed_bids, changed_asks)

    def _depth_update(self, symbol: str, first: int, final: int, previous: int, bids: dict[Decimal, Decimal],
                      asks: dict[Decimal, Decimal]) -> dict[str, Any]:
        inst, now = self._engine.instrument(symbol), self._engine.now_ms()

        def levels(side: dict[Decimal, Decimal], best_first: bool) -> list[list[str]]:
            return [[fixed(p, inst.tick_size), fixed(q, inst.qty_step)] for p, q in sorted(side.items(), reverse=best_first)]

        return {"e": "depthUpdate", "E": now, "T": now, "s": symbol, "U": first, "u": final, "pu": previous,
                "b": levels(bids, True), "a": levels(asks, False)}

    def _klines(self, conn: Connection, stream: str, symbol: str, interval: str) -> list[dict[str, Any]]:
        step = KLINE_MINUTES[interval] * 60_000
        state = conn.last_sent.setdefault(stream, {})
        closed, current = self._engine.tape(symbol).since(step, now_ms=self._engine.now_ms(),
                                                          last_open_ms=state.get("open_ms"), weekly=interval == "1w")
        state["open_ms"] = current.open_ms
        return [*(self._kline(symbol, interval, step, c, closed=True) for c in closed),
                self._kline(symbol, interval, step, current, closed=False)]

    def _kline(self, symbol: str, interval: str, step: int, c: Candle, *, closed: bool) -> dict[str, Any]:
        inst, now = self._engine.instrument(symbol), self._engine.now_ms()
        tick, qty = inst.tick_size, inst.qty_step
        tape = self._engine.tape(symbol)
        span = tape.trade_span(c.open_ms, c.open_ms + step - 1)
        first, last = ((self._ids.trade(tape.exec_id_at(span[0]), symbol), self._ids.trade(tape.exec_id_at(span[-1]),
                        symbol)) if span else (-1, -1))
        return {"e": "kline", "E": now, "s": symbol, "k": {
            "t": c.open_ms, "T": c.open_ms + step - 1, "s": symbol, "i": interval, "f": first, "L": last,
            "o": fixed(c.open, tick), "c": fixed(c.close, tick), "h": fixed(c.high, tick), "l": fixed(c.low, tick),
            "v": fixed(c.volume, qty), "n": c.trades, "x": closed, "q": fixed(c.turnover, EIGHT_PLACES),
            "V": fixed(c.taker_buy_volume, qty), "Q": fixed(c.taker_buy_turnover, EIGHT_PLACES), "B": "0"}}

    async def close_all(self, _app: web.Application | None = None) -> None:
        self._unsubscribe()
        await closing(list(self._connections))

