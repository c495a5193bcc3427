"""What a venue tells the trace: every REST exchange as the client saw it, and every engine change.

WebSocket frames are recorded by the venue's frame loop (see ``bybit/ws_connection.py``), which
knows which frames carry credentials.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

from simulator.control import CONTROL_PREFIX
from simulator.engine.events import (
    EngineEvent,
    Executed,
    OrderChanged,
    PositionChanged,
    TickerChanged,
    WalletChanged,
)
from simulator.engine.venue import Engine
from simulator.http_body import raw_body
from virtualtime.trace import NO_TRACE, Recorder

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_EVENT_KINDS: dict[type, tuple[str, str]] = {
    OrderChanged: ("order", "order"),
    Executed: ("execution", "execution"),
    PositionChanged: ("position", "position"),
    WalletChanged: ("wallet", "wallet"),
    TickerChanged: ("ticker", "market"),
}


def trace_venue(engine: Engine, trace: Recorder, actor: str) -> None:
    """What every venue does with its trace: credentials scrubbed, engine changes recorded."""
    for account in engine.accounts():
        trace.add_secret(account.api_key)
        trace.add_secret(account.api_secret)
    if trace is not NO_TRACE:
        record_engine(engine, trace, actor)


def record_engine(engine: Engine, trace: Recorder, actor: str) -> Callable[[], None]:
    """Record every engine event as ``(actor, kind, {attribute: value})``; returns the unsubscriber."""

    def on_batch(batch: Sequence[EngineEvent]) -> None:
        for event in batch:
            kind, attribute = _EVENT_KINDS[type(event)]
            trace.record(actor, kind, **{attribute: getattr(event, attribute)})

    return engine.subscribe(on_batch)


def rest_recorder(trace: Recorder, actor: str, headers: Sequence[str]) -> Middleware:
    """An aiohttp middleware recording each REST request and its answer; WebSocket upgrades pass untouched.

    Bodies are kept as the text that crossed the wire (the trace's timeline shows JSON parsed).

    Only the named ``headers`` are kept: the rest (host with its port, user agent) are about the
    machine, not the exchange. The trace redacts credentials among them by name.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Stream upgrades are traced frame by frame; the harness's own control routes not at all (the
        # trace route's answer, recorded, would be served again by the next read, and so on).
        if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket" or request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        raw = raw_body(request)
        body = "<over the size limit>" if raw is None else raw.decode("utf-8", errors="replace")
        trace.record(
            actor, "rest.request", method=request.method, path=request.path, query=request.rel_url.raw_query_string,
            headers={name: request.headers[name] for name in headers if name in request.headers}, body=body,
        )
        response = await handler(request)
        answer = response.text if isinstance(response, web.Response) else None
        trace.record(actor, "rest.response", method=request.method, path=request.path, status=response.status,
                     body=answer)
        return response

    return middleware

