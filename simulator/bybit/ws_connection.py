"""One WebSocket connection: an ordered, bounded outbox, and the frame loop that feeds a handler."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from simulator.bybit.wire import ACTOR, dumps
from simulator.faults.plan import AbortStream, CloseStream, DelayFrame, DropFrame, DuplicateFrame, ReplaceFrame
from simulator.faults.ws import FrameRouter
from virtualtime.trace import REDACTED, Recorder

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
# A client this far behind is not reading; Bybit drops such connections rather than buffer without end.
MAX_QUEUED_MESSAGES = 10_000

InternalError = Callable[[str], None]


class Connection:
    """Everything sent on a connection goes through one queue, so replies and pushes keep their order."""

    def __init__(
        self, ws: web.WebSocketResponse, conn_id: str, on_internal_error: InternalError, trace: Recorder,
        *, path: str = "", router: FrameRouter | None = None, actor: str = ACTOR,
    ) -> None:
        self._actor = actor
        self.ws = ws
        self.conn_id = conn_id
        self.path = path
        self._router = router
        self.topics: set[str] = set()
        self.transport: asyncio.Transport | None = None  # set when served, for an abrupt end
        self._pongs: set[asyncio.Task[None]] = set()
        # What this connection last received per stream key, for delta messages.
        self.last_sent: dict[str, dict[str, Any]] = {}
        self._on_internal_error = on_internal_error
        self._trace = trace
        self._outbox: asyncio.Queue[tuple[str, dict[str, Any] | str] | None] = asyncio.Queue(maxsize=MAX_QUEUED_MESSAGES)
        self._overflowed = False
        self._writer = asyncio.ensure_future(self._write())

    def send(self, message: dict[str, Any]) -> None:
        effect = self._router.route(self.path, self.conn_id, message) if self._router is not None else None
        if isinstance(effect, DropFrame):
            return
        if isinstance(effect, DelayFrame):
            asyncio.get_running_loop().call_later(effect.ms / 1000, self._queue, message)
            return
        if isinstance(effect, CloseStream):
            asyncio.ensure_future(self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"going away"))
            return
        if isinstance(effect, AbortStream):
            if self.transport is not None:
                self.transport.abort()
            return
        if isinstance(effect, ReplaceFrame):
            self._queue(message, effect.frame)
            return
        self._queue(message)
        if isinstance(effect, DuplicateFrame):
            self._queue(message)

    def pong(self, payload: bytes) -> None:
        """Answer a protocol ping, unless the router drops (a venue that stops answering) or delays the pong."""
        effect = self._router.route_pong(self.path, self.conn_id) if self._router is not None else None
        if isinstance(effect, DropFrame):
            return
        delay_s = effect.ms / 1000 if isinstance(effect, DelayFrame) else 0.0
        asyncio.get_running_loop().call_later(delay_s, self._send_pong, payload)

    def _send_pong(self, payload: bytes) -> None:
        if not self.ws.closed:
            task = asyncio.ensure_future(self._pong(payload))
            self._pongs.add(task)
            task.add_done_callback(self._pongs.discard)

    async def _pong(self, payload: bytes) -> None:
        try:
            await self.ws.pong(payload)
        except ConnectionError:
            pass  # the client is gone; its pong with it

    def _queue(self, message: dict[str, Any], instead: str | None = None) -> None:
        if self._overflowed or self.ws.closed:
            return
        try:
            self._outbox.put_nowait((dumps(message), message) if instead is None else (instead, instead))
        except asyncio.QueueFull:
            self._overflowed = True
            log.warning("connection %s fell %d messages behind; closing it", self.conn_id, MAX_QUEUED_MESSAGES)
            asyncio.ensure_future(self.ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"too slow"))

    async def _write(self) -> None:
        # Each entry is (text sent, what the trace records): the message, or a replacing text as sent.
        while (queued := await self._outbox.get()) is not None:
            if self.ws.closed:
                return
            text, message = queued
            try:
                await self.ws.send_str(text)
                self._trace.record(self._actor, "ws.out", conn=self.conn_id, frame=message)
            except ConnectionError:
                return
            except Exception:  # noqa: BLE001 - the writer is this connection's supervisor
                self._on_internal_error(f"ws {self.conn_id} send")
                await self.ws.close(code=WSCloseCode.INTERNAL_ERROR)
                return

    async def finish(self) -> None:
        """Flush what is queued, then stop the writer (and any pong still on its way)."""
        for pong in list(self._pongs):
            pong.cancel()
        await asyncio.gather(*self._pongs, return_exceptions=True)
        if not self._overflowed:
            try:
                self._outbox.put_nowait(None)
            except asyncio.QueueFull:
                self._writer.cancel()
        await asyncio.gather(self._writer, return_exceptions=True)


Handler = Callable[[Connection, dict[str, Any]], None]
BadFrame = Callable[[Connection, str], None]


async def serve_frames(
    request: web.Request, conn_id: str, on_message: Handler, on_bad_frame: BadFrame, *,
    on_open: Callable[[Connection], None], on_close: Callable[[Connection], None], on_internal_error: InternalError,
    trace: Recorder, router: FrameRouter | None = None, actor: str = ACTOR, heartbeat_s: float | None = None,
    stream: str | None = None,
) -> web.WebSocketResponse:
    # ``stream``: the path faults and the trace know the stream by, when several URLs serve it
    # (Binance's user stream at /private/ws?listenKey=K and at /ws/K); the request's path by default.
    # With heartbeat_s the server pings that often and drops a client whose pong is heartbeat_s / 2 late.
    # Pongs to a client's protocol pings are sent here, not by aiohttp, so the frame router can hold them.
    ws = web.WebSocketResponse(autoping=False, max_msg_size=MAX_FRAME_BYTES, heartbeat=heartbeat_s)
    await ws.prepare(request)
    path = stream or request.path
    conn = Connection(ws, conn_id, on_internal_error, trace, path=path, router=router, actor=actor)
    conn.transport = request.transport
    trace.record(actor, "ws.open", conn=conn_id, path=path)
    on_open(conn)
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                try:
                    frame = json.loads(msg.data)
                except (ValueError, RecursionError):
                    frame = None
                trace.record(actor, "ws.in", conn=conn_id, frame=_traceable(frame) if isinstance(frame, dict) else msg.data)
                if not isinstance(frame, dict):
                    on_bad_frame(conn, msg.data)
                    continue
                try:
                    on_message(conn, frame)
                except Exception:  # noqa: BLE001 - one bad frame must not take the connection down
                    on_internal_error(f"ws {conn_id} frame {msg.data[:200]!r}")
                    conn.send({"success": False, "ret_msg": "System error. Please try again later.",
                               "conn_id": conn_id, "op": str(frame.get("op", ""))})
            elif msg.type is WSMsgType.BINARY:
                trace.record(actor, "ws.in", conn=conn_id, frame="<binary frame>")
                on_bad_frame(conn, "<binary frame>")
            elif msg.type is WSMsgType.PING:
                conn.pong(msg.data)
            elif msg.type is WSMsgType.ERROR:
                break
    finally:
        on_close(conn)
        await conn.finish()
        trace.record(actor, "ws.close", conn=conn_id, code=ws.close_code)
    return ws


def _traceable(frame: dict[str, Any]) -> dict[str, Any]:
    # An auth frame's args are [api key, expires, signature]: keep only the expiry.
    args = frame.get("args")
    if frame.get("op") == "auth" and isinstance(args, list):
        return {**frame, "args": [arg if i == 1 else REDACTED for i, arg in enumerate(args)]}
    return frame


async def closing(conns: list[Connection]) -> None:
    await asyncio.gather(*(c.ws.close() for c in conns), return_exceptions=True)
