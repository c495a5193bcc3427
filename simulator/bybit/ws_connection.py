"""One WebSocket connection: an ordered outbox, and the frame loop that feeds a handler."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from simulator.bybit.wire import dumps

MAX_FRAME_BYTES = 64 * 1024


class Connection:
    """Everything sent on a connection goes through one queue, so replies and pushes keep their order."""

    def __init__(self, ws: web.WebSocketResponse, conn_id: str) -> None:
        self.ws = ws
        self.conn_id = conn_id
        self.topics: set[str] = set()
        # What this connection last received per stream key, for delta messages.
        self.last_sent: dict[str, dict[str, Any]] = {}
        self._outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer = asyncio.ensure_future(self._write())

    def send(self, message: dict[str, Any]) -> None:
        self._outbox.put_nowait(dumps(message))

    async def _write(self) -> None:
        while (text := await self._outbox.get()) is not None:
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except ConnectionError:
                return

    async def finish(self) -> None:
        """Flush what is queued, then stop the writer."""
        self._outbox.put_nowait(None)
        await self._writer


Handler = Callable[[Connection, dict[str, Any]], None]
BadFrame = Callable[[Connection, str], None]


async def serve_frames(
    request: web.Request, conn_id: str, on_message: Handler, on_bad_frame: BadFrame,
    on_open: Callable[[Connection], None], on_close: Callable[[Connection], None],
) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(autoping=True, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    conn = Connection(ws, conn_id)
    on_open(conn)
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                try:
                    frame = json.loads(msg.data)
                except json.JSONDecodeError:
                    on_bad_frame(conn, msg.data)
                    continue
                if not isinstance(frame, dict):
                    on_bad_frame(conn, msg.data)
                    continue
                on_message(conn, frame)
            elif msg.type is WSMsgType.BINARY:
                on_bad_frame(conn, "<binary frame>")
            elif msg.type is WSMsgType.ERROR:
                break
    finally:
        on_close(conn)
        await conn.finish()
    return ws


async def closing(conns: list[Connection]) -> None:
    await asyncio.gather(*(c.ws.close() for c in conns), return_exceptions=True)


