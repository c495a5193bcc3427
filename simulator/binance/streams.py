"""Binance's user data stream: ``/private/ws?listenKey=...`` (or the classic ``/ws/<listenKey>``) pushing ORDER_TRADE_UPDATE, ALGO_UPDATE, ACCOUNT_UPDATE.

No subscribe message: the listen key names the account. The market streams take SUBSCRIBE
(``<symbol>@miniTicker``, what ccxt.pro's watch_ticker asks). Frames go through the venue's frame
router (the WebSocket fault seam) like Bybit's.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from aiohttp import web

from simulator.binance.ids import NumericIds
from simulator.binance.listen_keys import NO_SUCH_KEY, ListenKey, ListenKeys
from simulator.binance.render import ORDER_STATUS, fixed, side
from simulator.bybit.ws_connection import Connection, InternalError, closing, serve_frames
from simulator.engine.events import EngineEvent, Executed, OrderChanged, PositionChanged, WalletChanged
from simulator.engine.fills import Execution
from simulator.engine.orders import Order
from simulator.engine.values import AccountId, OrderStatus, OrderType, Side, TriggerDirection, VenueOrderId
from simulator.engine.venue import Engine
from simulator.faults.ws import FrameRouter
from virtualtime.trace import NO_TRACE, Recorder

ACTOR = "binance"
USER_STREAM = "/private/ws"  # faults name the user stream by this path, whichever URL a client took
ZERO = Decimal(0)
CONNECTION_LIFETIME_S = 24 * 3600.0
# Binance pings every 3 minutes. It allows 10 minutes for the pong; aiohttp's heartbeat allows half
# the interval (90 s), which only makes a silent client's end come sooner.
PING_EVERY_S = 180.0
_ALGO_STATUS = {OrderStatus.UNTRIGGERED: "NEW", OrderStatus.CANCELLED: "CANCELED", OrderStatus.DEACTIVATED: "EXPIRED"}
# Why the matching engine refused a triggered conditional order (ALGO_UPDATE "rm").
_REDUCE_ONLY_REJECT = "Reduce Only reject"
_MARGIN_REJECT = "Margin is insufficient."


class UserStreams:
    def __init__(self, engine: Engine, ids: NumericIds, keys: ListenKeys, *, on_internal_error: InternalError,
                 trace: Recorder = NO_TRACE, router: FrameRouter | None = None) -> None:
        self._engine = engine
        self._ids = ids
        self._keys = keys
        self._wire_ids = engine.ids.child()
        self._on_internal_error = on_internal_error
        self._trace = trace
        self.router = router
        self._connections: dict[Connection, ListenKey] = {}
        self._lapsed: set[Connection] = set()  # told listenKeyExpired: open, but carrying nothing
        self._expiry_timers: dict[str, asyncio.TimerHandle] = {}
        self._lifetimes: dict[Connection, asyncio.TimerHandle] = {}
        self._opened = asyncio.Condition()
        # Conditional orders past their trigger: when each fired, and which were placed in the matching
        # engine. Kept with or without a listener, so a stream opened later tells their end right.
        self._triggered_ms: dict[VenueOrderId, int] = {}
        self._placed: set[VenueOrderId] = set()
        self._unsubscribe = engine.subscribe(self._on_batch)
        keys.on_close.append(self._key_closed)

    def listening(self, account_id: AccountId) -> bool:
        """Whether a stream of ``account_id`` is open and still carrying user data."""
        return any(k.account_id == account_id and c not in self._lapsed for c, k in self._connections.items())

    async def wait_listening(self, account_id: AccountId) -> None:
        """Until a user data stream of ``account_id`` is open."""
        async with self._opened:
            await self._opened.wait_for(lambda: self.listening(account_id))

    async def handler(self, request: web.Request) -> web.StreamResponse:
        # ``/private/ws?listenKey=K`` (ccxt.pro 4.5.90's) or the classic ``/ws/K``.
        key = request.match_info.get("listen_key") or request.rel_url.query.get("listenKey") or ""
        now = self._engine.now_ms()
        account_id = self._keys.account_for(key, now)
        listen_key = self._keys.live(account_id, now) if account_id is not None else None
        if listen_key is None:
            return web.json_response({"code": NO_SUCH_KEY.code, "msg": NO_SUCH_KEY.msg}, status=400)

        def opened(conn: Connection) -> None:
            self._connections[conn] = listen_key
            self._watch_expiry(key)
            # Binance ends every connection at 24 hours; clients are expected to reconnect.
            self._lifetimes[conn] = asyncio.get_running_loop().call_later(CONNECTION_LIFETIME_S, self._end, conn)
            asyncio.ensure_future(self._notify())

        return await serve_frames(
            request, self._wire_ids.uuid(), lambda conn, frame: None, lambda conn, data: None,
            on_open=opened, on_close=self._closed,
            on_internal_error=self._on_internal_error, trace=self._trace, router=self.router, actor=ACTOR, heartbeat_s=PING_EVERY_S,
            stream=USER_STREAM,
        )

    def _closed(self, conn: Connection) -> None:
        self._connections.pop(conn, None)
        self._lapsed.discard(conn)
        lifetime = self._lifetimes.pop(conn, None)
        if lifetime is not None:
            lifetime.cancel()

    def _end(self, conn: Connection) -> None:
        asyncio.ensure_future(closing([conn]))

    async def _notify(self) -> None:
        async with self._opened:
            self._opened.notify_all()

    # ------------------------------------------------------------------ listen keys

    def lapse(self, account_id: AccountId) -> str | None:
        """Let the account's listen key run out now (as after missed keepalives); returns the key."""
        lapsed = self._keys.lapse(account_id, self._engine.now_ms())
        if lapsed is None:
            return None
        self._check_expiry(lapsed.key)
        return lapsed.key

    def _watch_expiry(self, key: str) -> None:
        expires_ms = self._keys.expiry(key)
        if expires_ms is None or key in self._expiry_timers:
            return
        delay_s = max(0, expires_ms - self._engine.now_ms()) / 1000
        self._expiry_timers[key] = asyncio.get_running_loop().call_later(delay_s, self._check_expiry, key)

    def _check_expiry(self, key: str) -> None:
        timer = self._expiry_timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        on_key = [c for c, k in self._connections.items() if k.key == key and c not in self._lapsed]
        expires_ms = self._keys.expiry(key)
        if not on_key or expires_ms is None:
            return
        now = self._engine.now_ms()
        if expires_ms > now:  # kept alive meanwhile
            self._watch_expiry(key)
            return
        for conn in on_key:
            # Binance sends the event time as a string here, unlike its other events.
            conn.send({"e": "listenKeyExpired", "E": str(now), "listenKey": key})
            self._lapsed.add(conn)

    def _key_closed(self, closed: ListenKey) -> None:
        on_key = [c for c, k in self._connections.items() if k.key == closed.key]
        self._lapsed.update(on_key)
        if on_key:
            asyncio.ensure_future(closing(on_key))

    async def drop(self) -> int:
        """Close every user data stream from the venue's side; returns how many."""
        connections = list(self._connections)
        await closing(connections)
        return len(connections)

    async def close_all(self, _app: web.Application | None = None) -> None:
        self._unsubscribe()
        for timer in self._expiry_timers.values():
            timer.cancel()
        self._expiry_timers.clear()
        await closing(list(self._connections))

    # ------------------------------------------------------------------ pushes

    def _on_batch(self, batch: Sequence[EngineEvent]) -> None:
        fills = {e.execution.order_id: e.execution for e in batch if isinstance(e, Executed)}
        funded = {e.execution.account_id: e.execution for e in batch
                  if isinstance(e, Executed) and not e.execution.is_trade}
        accounts_changed: set[AccountId] = set()
        for event in batch:
            if isinstance(event, OrderChanged):
                messages = self._order_messages(event.order, fills.get(event.order.order_id), event.amended)
                if self._connections:
                    for message in messages:
                        self._push(event.order.account_id, message)
            elif isinstance(event, PositionChanged | WalletChanged):
                account = event.position.account_id if isinstance(event, PositionChanged) else event.wallet.account_id
                accounts_changed.add(account)
        for account_id in sorted(accounts_changed if self._connections else ()):
            funding = funded.get(account_id)
            self._push(account_id, self._account_message(account_id) if funding is None
                       else self._funding_message(account_id, -funding.fee))

    def _push(self, account_id: AccountId, message: dict[str, Any]) -> None:
        for conn, key in self._connections.items():
            if key.account_id == account_id and conn not in self._lapsed:
                conn.send(message)

    def _order_messages(self, o: Order, fill: Execution | None, amended: bool = False) -> list[dict[str, Any]]:
        """What Binance pushes for one change of an order. A conditional order lives on the algo service
        (ALGO_UPDATE) until it fires: TRIGGERING, then TRIGGERED once placed in the matching engine,
        whose order then has ORDER_TRADE_UPDATEs of its own, and FINISHED when that order is done;
        REJECTED when the matching engine refuses it."""
        oid = o.order_id
        if o.trigger_price is None:
            return [self._trade_update(o, fill, amended)]
        if o.status is OrderStatus.UNTRIGGERED:
            return [self._algo_update(o, "NEW")]
        if o.status is OrderStatus.TRIGGERED:
            self._triggered_ms[oid] = o.updated_ms
            return [self._algo_update(o, "TRIGGERING")]
        placed = oid in self._placed
        if not placed and o.status in _ALGO_STATUS:
            triggered = self._triggered_ms.pop(oid, None) is not None
            if triggered:  # fired, but never reached the book
                why = _REDUCE_ONLY_REJECT if o.status is OrderStatus.DEACTIVATED else _MARGIN_REJECT
                return [self._algo_update(o, "REJECTED", reason=why)]
            return [self._algo_update(o, _ALGO_STATUS[o.status])]
        messages = []
        if not placed:
            self._placed.add(oid)
            messages.append(self._algo_update(_as_new(o), "TRIGGERED"))
            if o.status is not OrderStatus.NEW:  # filled at once: the book saw it new first
                messages.append(self._trade_update(_as_new(o), None))
        messages.append(self._trade_update(o, fill))
        if not o.status.is_open:
            messages.append(self._algo_update(o, "FINISHED"))
            self._placed.discard(oid)
            self._triggered_ms.pop(oid, None)
        return messages

    def _algo_update(self, o: Order, status: str, *, reason: str = "") -> dict[str, Any]:
        now = self._engine.now_ms()
        inst = self._engine.instrument(o.symbol)
        payload = {
            "caid": o.client_order_id or "", "aid": self._ids.algo(o.order_id), "at": "CONDITIONAL",
            "o": self._ids.algo_types.get(o.order_id, _algo_type(o)), "s": o.symbol, "S": side(o.side),
            "ps": "BOTH", "f": "GTC", "q": fixed(o.qty, inst.qty_step), "X": status,
            "ai": str(self._ids.order(o.order_id)) if o.order_id in self._placed else "",
            "tp": fixed(o.trigger_price or ZERO, inst.tick_size),
            "p": fixed(o.price if o.order_type is OrderType.LIMIT else ZERO, inst.tick_size),
            "V": "EXPIRE_MAKER", "wt": "CONTRACT_PRICE", "pm": "NONE", "cp": False, "pP": False, "R": o.reduce_only,
            "tt": self._triggered_ms.get(o.order_id, 0), "gtd": 0, "rm": reason,
        }
        if o.order_id in self._placed:  # Binance shows these once the order is in the matching engine
            avg = o.cum_exec_value / o.filled_qty if o.filled_qty else ZERO
            payload.update({"ap": fixed(avg, inst.tick_size), "aq": fixed(o.filled_qty, inst.qty_step),
                            "act": "MARKET" if o.order_type is OrderType.MARKET else "LIMIT"})
        return {"e": "ALGO_UPDATE", "T": now, "E": now, "o": payload}

    def _trade_update(self, o: Order, fill: Execution | None, amended: bool = False) -> dict[str, Any]:
        now = self._engine.now_ms()
        inst = self._engine.instrument(o.symbol)
        avg = o.cum_exec_value / o.filled_qty if o.filled_qty else ZERO
        if o.filled_qty == 0:
            fill = None  # the order's accepted state, before the fill in the same batch
        execution = "TRADE" if fill is not None else "AMENDMENT" if amended else {
            "CANCELED": "CANCELED", "EXPIRED": "EXPIRED"}.get(ORDER_STATUS[o.status], "NEW")
        return {"e": "ORDER_TRADE_UPDATE", "E": now, "T": now, "o": {
            "s": o.symbol, "c": o.client_order_id or "", "S": side(o.side),
            "o": "MARKET" if o.order_type is OrderType.MARKET else "LIMIT", "f": "GTC",
            "q": fixed(o.qty, inst.qty_step), "p": fixed(o.price if o.order_type is OrderType.LIMIT else ZERO, inst.tick_size),
            "ap": fixed(avg, inst.tick_size), "sp": fixed(o.trigger_price or ZERO, inst.tick_size), "x": execution,
            "X": ORDER_STATUS[o.status], "i": self._ids.order(o.order_id),
            "l": fixed(fill.qty if fill else ZERO, inst.qty_step), "z": fixed(o.filled_qty, inst.qty_step),
            "L": fixed(fill.price if fill else ZERO, inst.tick_size), "N": "USDT", "n": str(fill.fee if fill else 0),
            "T": now, "t": self._ids.trade(fill.exec_id, fill.symbol) if fill else 0, "b": "0", "a": "0",
            "m": bool(fill and fill.is_maker), "R": o.reduce_only, "wt": "CONTRACT_PRICE", "ot": "MARKET"
            if o.order_type is OrderType.MARKET else "LIMIT", "ps": "BOTH", "cp": False, "rp": str(
                fill.realised_pnl if fill else 0), "pP": False, "si": 0, "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE",
            "gtd": 0,
        }}

    def _funding_message(self, account_id: AccountId, change: Decimal) -> dict[str, Any]:
        """Binance: a funding fee on a cross position pushes the balance alone, no position."""
        wallet = self._engine.wallet_view(account_id)
        now = self._engine.now_ms()
        return {"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": {
            "m": "FUNDING_FEE", "B": [{"a": "USDT", "wb": str(wallet.balance), "cw": str(wallet.balance),
                                       "bc": str(change)}], "P": [],
        }}

    def _account_message(self, account_id: AccountId) -> dict[str, Any]:
        engine = self._engine
        wallet = engine.wallet_view(account_id)
        now = engine.now_ms()
        positions = []
        for p in engine.positions(account_id):
            inst = engine.instrument(p.symbol)
            positions.append({"s": p.symbol, "pa": fixed(p.size, inst.qty_step), "ep": str(p.entry_price),
                              "bep": str(p.entry_price), "cr": str(p.cum_realised_pnl),
                              "up": str(p.unrealised_pnl(engine.market(p.symbol).mark_price)), "mt": "cross",
                              "iw": "0", "ps": "BOTH"})
        return {"e": "ACCOUNT_UPDATE", "E": now, "T": now, "a": {
            "m": "ORDER", "B": [{"a": "USDT", "wb": str(wallet.balance), "cw": str(wallet.balance), "bc": "0"}],
            "P": positions,
        }}


def _as_new(o: Order) -> Order:
    return dataclasses.replace(o, status=OrderStatus.NEW, filled_qty=ZERO, cum_exec_value=ZERO, cum_exec_fee=ZERO)


def _algo_type(o: Order) -> str:
    # A stop fires against the position it closes: a sell when the price falls, a buy when it rises.
    falls = o.trigger_direction is TriggerDirection.FALLS_TO
    stop = falls == (o.side is Side.SELL)
    market = o.order_type is OrderType.MARKET
    return ("STOP" if stop else "TAKE_PROFIT") + ("_MARKET" if market else "")
