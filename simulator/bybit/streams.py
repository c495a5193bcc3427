"""Bybit's WebSocket streams: ``/v5/private`` (order, execution, position, wallet) and
``/v5/public/linear`` (tickers here; orderbook, publicTrade and kline in ``public_topics.py``), fed
by the engine's event batches.

Every state change the engine reports becomes a push, in the order it happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from aiohttp import web

from simulator.bybit.auth import WsAuthError, authenticate_ws
from simulator.bybit.public_topics import PublicTopics
from simulator.bybit.render.market import ticker_now
from simulator.bybit.render.orders import order_push
from simulator.bybit.render.trading import execution_push, position_push, wallet_account
from simulator.bybit.ws_connection import (
    Connection,
    InternalError,
    closing,
    serve_frames,
)
from simulator.engine.events import (
    EngineEvent,
    Executed,
    OrderChanged,
    PositionChanged,
    TickerChanged,
    WalletChanged,
)
from simulator.engine.positions import Position
from simulator.engine.values import AccountId, OrderStatus
from simulator.engine.venue import Engine
from simulator.faults.ws import FrameRouter
from virtualtime.trace import NO_TRACE, Recorder

log = logging.getLogger(__name__)

# Order statuses that mean a client created or cancelled an order (rather than the market filling it).
_ORDER_ACTIONS = frozenset({OrderStatus.NEW, OrderStatus.UNTRIGGERED, OrderStatus.CANCELLED})

PRIVATE_TOPICS = {
    "order": "order", "order.linear": "order",
    "execution": "execution", "execution.linear": "execution",
    "position": "position", "position.linear": "position",
    "wallet": "wallet",
}


class Streams:
    def __init__(
        self, engine: Engine, *, on_internal_error: InternalError, trace: Recorder = NO_TRACE,
        router: FrameRouter | None = None,
    ) -> None:
        self._engine = engine
        self.router = router  # every outgoing frame passes through it (the WebSocket fault seam)
        self._trace = trace
        self._ids = engine.ids.child()
        self._on_internal_error = on_internal_error
        # Dicts, not sets: pushes go out in connection order, so runs stay deterministic.
        self._private: dict[Connection, AccountId | None] = {}
        self._public: dict[Connection, None] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._cross_seq = 0
        self._subscribed = asyncio.Condition()
        self._topics = PublicTopics(engine)
        self._unsubscribe = engine.subscribe(self._on_batch)

    def is_subscribed(self, topic: str) -> bool:
        """Whether any connection (private or public) currently holds ``topic``."""
        return any(topic in c.topics for c in (*self._private, *self._public))

    async def wait_subscribed(self, topic: str) -> None:
        """Until some client has subscribed to ``topic``: lets a test act only once a watcher listens."""
        async with self._subscribed:
            await self._subscribed.wait_for(lambda: self.is_subscribed(topic))

    def _notify_subscribed(self) -> None:
        async def notify() -> None:
            async with self._subscribed:
                self._subscribed.notify_all()

        task = asyncio.ensure_future(notify())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ connections

    async def private_handler(self, request: web.Request) -> web.StreamResponse:
        return await serve_frames(
            request, self._ids.uuid(), self._on_private, self._bad_frame,
            on_open=self._open_private, on_close=self._close_private, on_internal_error=self._on_internal_error,
            trace=self._trace, router=self.router,
        )

    def _open_private(self, conn: Connection) -> None:
        self._private[conn] = None  # not authenticated yet

    def _close_private(self, conn: Connection) -> None:
        self._private.pop(conn, None)

    async def public_handler(self, request: web.Request) -> web.StreamResponse:
        return await serve_frames(
            request, self._ids.uuid(), self._on_public, self._bad_frame,
            on_open=lambda c: self._public.setdefault(c, None), on_close=lambda c: self._public.pop(c, None),
            on_internal_error=self._on_internal_error, trace=self._trace, router=self.router,
        )

    async def drop_private(self) -> int:
        """Close every private connection from the venue's side, as a venue-side disconnect; keeps serving.

        Returns how many were closed. Clients see a server close and reconnect as they would.
        """
        connections = list(self._private)
        await closing(connections)
        return len(connections)

    async def close_all(self, _app: web.Application | None = None) -> None:
        """Venue shutdown: stop listening to the engine (it may be served again) and close every socket."""
        self._unsubscribe()
        await closing([*self._private, *self._public])

    # ------------------------------------------------------------------ requests

    def _answer(self, conn: Connection, frame: dict[str, Any], *, success: bool, ret_msg: str = "") -> None:
        answer: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": conn.conn_id}
        if "req_id" in frame:
            answer["req_id"] = str(frame["req_id"])
        answer["op"] = frame.get("op", "")
        conn.send(answer)

    def _bad_frame(self, conn: Connection, data: str) -> None:
        conn.send({"success": False, "ret_msg": f"Failed to decode incoming data: {data[:100]!r} is not a JSON object",
                   "conn_id": conn.conn_id, "op": ""})

    def _on_private(self, conn: Connection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == "auth":
            if self._private.get(conn) is not None:
                self._answer(conn, frame, success=False, ret_msg="Repeat auth")
                return
            try:
                account = authenticate_ws(self._engine, frame.get("args"), now_ms=self._engine.now_ms())
            except WsAuthError as error:
                log.info("ws auth refused on %s: %s", conn.conn_id, error.reason)
                self._answer(conn, frame, success=False, ret_msg=error.message)
                return
            self._private[conn] = account.account_id
            self._answer(conn, frame, success=True)
        elif op == "ping":
            pong: dict[str, Any] = {"op": "pong", "args": [str(self._engine.now_ms())], "conn_id": conn.conn_id}
            if "req_id" in frame:
                pong = {"req_id": str(frame["req_id"]), **pong}
            conn.send(pong)
        elif op in ("subscribe", "unsubscribe"):
            if self._private.get(conn) is None:
                self._answer(conn, frame, success=False, ret_msg="Request not authorized")
                return
            self._subscription(conn, frame, lambda t: PRIVATE_TOPICS.get(t) is not None)
        else:
            self._answer(conn, frame, success=False, ret_msg="error:invalid op")

    def _on_public(self, conn: Connection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == "ping":
            self._answer(conn, frame, success=True, ret_msg="pong")
        elif op in ("subscribe", "unsubscribe"):
            added = self._subscription(conn, frame, self._known_public_topic)
            for topic in added:
                if topic.startswith("tickers."):
                    conn.send(self._ticker_message(conn, topic.removeprefix("tickers."), snapshot=True))
                elif (first := self._topics.on_subscribe(topic, conn.last_sent.setdefault(topic, {}))) is not None:
                    conn.send(first)
        else:
            self._answer(conn, frame, success=False, ret_msg="error:invalid op")

    def _known_public_topic(self, topic: str) -> bool:
        if not topic.startswith("tickers."):
            return self._topics.known(topic)
        return topic.removeprefix("tickers.") in {i.symbol for i in self._engine.instruments()}

    def _subscription(self, conn: Connection, frame: dict[str, Any], known: Any) -> list[str]:
        """Apply a subscribe/unsubscribe; answer as Bybit does. Returns the topics newly added."""
        args = frame.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._answer(conn, frame, success=False, ret_msg="error:args invalid")
            return []
        unknown = [t for t in args if not known(t)]
        if unknown:
            self._answer(conn, frame, success=False, ret_msg=f"error:handler not found,topic:{unknown[0]}")
            return []
        if frame["op"] == "unsubscribe":
            conn.topics.difference_update(args)
            self._answer(conn, frame, success=True)
            return []
        repeated = [t for t in args if t in conn.topics]
        if repeated:
            self._answer(conn, frame, success=False, ret_msg=f"error:already subscribed,topic:{repeated[0]}")
            return []
        conn.topics.update(args)
        self._answer(conn, frame, success=True)
        self._notify_subscribed()
        return list(args)

    # ------------------------------------------------------------------ pushes

    def _on_batch(self, batch: Sequence[EngineEvent]) -> None:
        positions_pushed = {(e.position.account_id, e.position.symbol) for e in batch if isinstance(e, PositionChanged)}
        touched: dict[tuple[AccountId, str], None] = {}
        books: dict[str, None] = {}  # symbols whose order changes may have moved the ticker's best bid or ask
        for event in batch:
            if isinstance(event, TickerChanged):
                self._push_public(f"tickers.{event.market.symbol}", event.market.symbol)
                continue
            if isinstance(event, OrderChanged):
                books[event.order.symbol] = None
                if event.order.status in _ORDER_ACTIONS:
                    touched[(event.order.account_id, event.order.symbol)] = None
            self._push_private(*self._private_item(event))
        for symbol in books:
            self._push_public(f"tickers.{symbol}", symbol, only_changes=True)
        self._topics.observe(batch)
        for conn in self._public:
            for topic in sorted(t for t in conn.topics if not t.startswith("tickers.")):  # a set: sorted, deterministic
                for message in self._topics.pushes(topic, batch, conn.last_sent.setdefault(topic, {})):
                    conn.send(message)
        # Bybit: "every time you create/amend/cancel an order, the position topic will generate
        # a new message (regardless if there's any actual change)".
        for account_id, symbol in touched:
            if (account_id, symbol) not in positions_pushed:
                self._push_private(account_id, "position", self._position_push(self._engine.position(account_id, symbol)))

    def _push_private(self, account_id: AccountId, topic: str, item: dict[str, Any]) -> None:
        for conn, owner in self._private.items():
            if owner == account_id and any(PRIVATE_TOPICS[t] == topic for t in conn.topics):
                conn.send(self._private_message(topic, item))

    def _private_item(self, event: EngineEvent) -> tuple[AccountId, str, dict[str, Any]]:
        if isinstance(event, OrderChanged):
            return event.order.account_id, "order", order_push(event.order)
        if isinstance(event, Executed):
            return event.execution.account_id, "execution", execution_push(event.execution)
        if isinstance(event, PositionChanged):
            p = event.position
            return p.account_id, "position", self._position_push(p)
        assert isinstance(event, WalletChanged)
        return event.wallet.account_id, "wallet", wallet_account(event.wallet)

    def _position_push(self, position: Position) -> dict[str, Any]:
        engine = self._engine
        return position_push(
            position, engine.market(position.symbol),
            taker_fee_rate=engine.instrument(position.symbol).taker_fee_rate,
        )

    def _private_message(self, topic: str, item: dict[str, Any]) -> dict[str, Any]:
        return {"id": self._ids.uuid(), "topic": topic, "creationTime": self._engine.now_ms(), "data": [item]}

    def _push_public(self, topic: str, symbol: str, *, only_changes: bool = False) -> None:
        listening = [conn for conn in self._public if topic in conn.topics]
        if not listening:
            return
        ticker = ticker_now(self._engine, self._engine.instrument(symbol))  # once, whoever listens
        for conn in listening:
            if only_changes:  # an order change: push only if the ticker it shows moved (its best bid or ask)
                previous = conn.last_sent.get(symbol)
                if previous is not None and all(previous.get(k) == v for k, v in ticker.items() if k != "symbol"):
                    continue
            conn.send(self._ticker_message(conn, symbol, snapshot=False, ticker=ticker))

    def _ticker_message(self, conn: Connection, symbol: str, *, snapshot: bool,
                        ticker: dict[str, Any] | None = None) -> dict[str, Any]:
        """A snapshot, or a delta of what changed since this connection's last ticker message."""
        engine = self._engine
        now = engine.now_ms()
        current = dict(ticker if ticker is not None else ticker_now(engine, engine.instrument(symbol)))
        current.pop("symbol")
        previous = conn.last_sent.get(symbol)
        current["tickDirection"] = _tick_direction(previous, current)
        conn.last_sent[symbol] = current
        if snapshot or previous is None:
            data = {"symbol": symbol, **current}
            kind = "snapshot"
        else:
            data = {"symbol": symbol, **{k: v for k, v in current.items() if previous.get(k) != v}}
            kind = "delta"
        self._cross_seq += 1
        return {"topic": f"tickers.{symbol}", "type": kind, "data": data, "cs": self._cross_seq, "ts": now}


def _tick_direction(previous: dict[str, Any] | None, current: dict[str, Any]) -> str:
    """Bybit's tickDirection: how the last price moved, remembering the last real move when unchanged."""
    if previous is None:
        return "ZeroPlusTick"
    before, now = Decimal(previous["lastPrice"]), Decimal(current["lastPrice"])
    if now > before:
        return "PlusTick"
    if now < before:
        return "MinusTick"
    return "ZeroPlusTick" if previous["tickDirection"] in ("PlusTick", "ZeroPlusTick") else "ZeroMinusTick"
