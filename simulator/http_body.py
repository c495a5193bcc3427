"""Read each request's body once, before anything looks at it, so the trace and the handler see the same bytes.

A body over the application's ``client_max_size`` is not an aiohttp 413 here: it is marked, and
the venue answers with its own error. Reading it twice would be worse: a second ``read()``
would resume mid-stream and could accept a truncated body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_KEY: web.RequestKey[bytes | None] = web.RequestKey("venue_raw_body", object)  # type: ignore[arg-type]


@web.middleware
async def read_body(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        request[_KEY] = await request.read() if request.body_exists else b""
    except web.HTTPRequestEntityTooLarge:
        request[_KEY] = None
    return await handler(request)


def raw_body(request: web.Request) -> bytes | None:
    """The request's body as read by ``read_body``; None when it was over the size limit."""
    try:
        body: bytes | None = request[_KEY]
    except KeyError:
        raise RuntimeError(
            "raw_body() needs the read_body middleware first in the application's middlewares"
        ) from None
    return body
