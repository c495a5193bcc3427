"""The REST fault seam: one aiohttp middleware, outside the venue's own request recording.

Placed outside the recorder on purpose: a request dropped before the venue, or answered by a
"gateway", never reaches the venue's record; one dropped after applying is recorded as the venue
answered it, and the fault record says what the client got instead.
"""

from __future__ import annotations

import asyncio

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from simulator.control import CONTROL_PREFIX
from simulator.faults.plan import (
    AnswerAfterApply,
    DropAfterApply,
    DropBeforeApply,
    FaultPlan,
    HttpAnswer,
    Latency,
    TruncatedAnswer,
)
from virtualtime.trace import Recorder


def rest_faults(plan: FaultPlan, trace: Recorder, actor: str) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # REST faults act on REST calls: stream upgrades have the frame router, and the control routes
        # none (a venue-wide fault would lock out the way to clear it).
        if request.path.startswith(CONTROL_PREFIX) or request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
            return await handler(request)
        fault = plan.pick(request.method, request.path)
        if fault is None:
            return await handler(request)
        effect = fault.effect
        where = f"{request.method} {request.path}"
        if isinstance(effect, DropBeforeApply):
            trace.record(actor, "fault", name=fault.name, request=where, applied=False, told="connection dropped")
            _drop(request)
            return web.Response(status=499)  # never written: the connection is gone
        if isinstance(effect, DropAfterApply):
            response = await handler(request)
            trace.record(actor, "fault", name=fault.name, request=where, applied=True, told="connection dropped",
                         venue_status=response.status)
            _drop(request)
            return response
        if isinstance(effect, Latency):
            response = await handler(request)
            late_ms = plan.delay_ms(effect)
            trace.record(actor, "fault", name=fault.name, request=where, applied=True,
                         told=f"the answer {late_ms} ms late")
            await asyncio.sleep(late_ms / 1000)
            return response
        if isinstance(effect, AnswerAfterApply):
            response = await handler(request)
            trace.record(actor, "fault", name=fault.name, request=where, applied=True,
                         told=f"HTTP {effect.status} {effect.body[:80]}", venue_status=response.status)
            return web.Response(status=effect.status, text=effect.body, content_type=effect.content_type,
                                headers=dict(effect.headers))
        if isinstance(effect, TruncatedAnswer):
            response = await handler(request)
            body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b""
            kept = body[:effect.keep_bytes]
            told = f"the first {len(kept)} of {len(body)} body bytes" if len(kept) < len(body) else "the whole body"
            trace.record(actor, "fault", name=fault.name, request=where, applied=True,
                         told=f"HTTP {response.status}, {told}", venue_status=response.status)
            headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
            return web.Response(status=response.status, body=kept, content_type=response.content_type,
                                headers=headers)
        if isinstance(effect, HttpAnswer):
            trace.record(actor, "fault", name=fault.name, request=where, applied=False,
                         told=f"HTTP {effect.status}")
            return web.Response(status=effect.status, text=effect.body, content_type=effect.content_type,
                                headers=dict(effect.headers))
        raise AssertionError(f"the REST seam doesn't (yet) support effect {effect!r}")

    return middleware


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()
