"""The Bybit venue as an aiohttp application: REST dispatch, envelopes, errors, WebSockets."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from simulator.bybit.auth import authenticate_rest
from simulator.bybit.errors import (
    ROUTE_NOT_FOUND,
    SYSTEM_ERROR,
    BybitError,
    from_rejection,
    params_error,
)
from simulator.bybit.handlers import ROUTES
from simulator.bybit.params import Params
from simulator.bybit.routing import Call, Route
from simulator.bybit.streams import Streams
from simulator.bybit.wire import ACTOR, error_reply, reply
from simulator.control import Control
from simulator.engine.rejections import Rejection
from simulator.engine.venue import Engine
from simulator.faults.plan import FaultPlan
from simulator.faults.rest import rest_faults
from simulator.faults.ws import FrameRouter
from simulator.funding_clock import funding_clock
from simulator.http_body import raw_body, read_body
from simulator.tracing import rest_recorder, trace_venue
from virtualtime.trace import NO_TRACE, Recorder

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 64 * 1024
# The request headers worth a trace: the rest (host and port, user agent) describe the machine.
TRACED_HEADERS = ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW", "X-BAPI-SIGN", "X-BAPI-SIGN-TYPE")


class BybitVenue:
    """One Bybit venue: an engine behind Bybit v5's REST and WebSocket wire."""

    def __init__(
        self, engine: Engine, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, trace: Recorder = NO_TRACE,
        control_token: str | None = None,
    ) -> None:
        self.engine = engine
        self.control_token = control_token
        self.max_body_bytes = max_body_bytes
        self.trace = trace
        trace_venue(engine, trace, ACTOR)
        self.faults = FaultPlan.for_engine(engine, trace, ACTOR)
        self.streams = Streams(engine, on_internal_error=self.record_internal_error, trace=trace,
                               router=FrameRouter(self.faults, trace, ACTOR))
        # Anything that escaped a handler as an unexpected exception: a simulator bug.
        # Clients got Bybit's system-error envelope; tests assert this stays empty.
        self.internal_errors: list[str] = []
        self._routes: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}

    def build_app(self) -> web.Application:
        middlewares: list[Middleware] = [read_body, rest_faults(self.faults, self.trace, ACTOR)]
        if self.trace is not NO_TRACE:
            middlewares.append(rest_recorder(self.trace, ACTOR, TRACED_HEADERS))
        app = web.Application(client_max_size=self.max_body_bytes, middlewares=middlewares)
        app.router.add_get("/v5/private", self.streams.private_handler)
        app.router.add_get("/v5/public/linear", self.streams.public_handler)
        Control(self.engine, faults=self.faults, drop_streams=self.streams.drop_private,
                token=self.control_token, trace=self.trace).add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        app.on_shutdown.append(self.streams.close_all)
        app.cleanup_ctx.append(funding_clock(self.engine, self.record_internal_error))
        return app

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        # The supervisor of every REST request: whatever happens, the client gets a Bybit
        # envelope and the server keeps serving; a simulator bug is recorded, never hidden.
        try:
            try:
                return await self._dispatch(request)
            except BybitError as error:
                return error_reply(error.ret_code, error.ret_msg, now_ms=self.engine.now_ms(), status=error.status)
            except Rejection as rejection:
                refusal = from_rejection(rejection)
                return error_reply(refusal.ret_code, refusal.ret_msg, now_ms=self.engine.now_ms())
        except Exception:  # noqa: BLE001 - top-level supervisor: a bug becomes a venue answer, not a 500
            self.record_internal_error(f"{request.method} {request.rel_url.raw_path_qs}")
            return error_reply(SYSTEM_ERROR, "System error. Please try again later.", now_ms=self.engine.now_ms())

    def record_internal_error(self, where: str) -> None:
        detail = traceback.format_exc()
        self.internal_errors.append(f"{where}\n{detail}")
        log.error("internal error in %s\n%s", where, detail)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        route = self._routes.get((request.method, request.path))
        if request.method not in ("GET", "POST"):
            raise params_error("method error: Request parameter error.")
        if route is None:
            # Bybit's gateway answers an unknown route with HTTP 404 and code 10017.
            raise BybitError(
                ROUTE_NOT_FOUND,
                f"Route not found. (this simulator doesn't (yet) support {request.method} {request.path})",
                status=404,
            )
        if request.method == "POST":
            payload, values = await self._json_body(request)
        else:
            payload = request.rel_url.raw_query_string
            values = {key: request.rel_url.query.get(key) for key in request.rel_url.query}
        now = self.engine.now_ms()
        account = None
        if route.private:
            account = authenticate_rest(self.engine, request.headers, payload, now_ms=now, writes=route.writes)
        params = Params(values, typed=request.method == "POST")
        result = route.handler(Call(engine=self.engine, params=params, account=account, now_ms=now))
        return reply(result, now_ms=self.engine.now_ms())

    async def _json_body(self, request: web.Request) -> tuple[str, Mapping[str, Any]]:
        raw = raw_body(request)
        if raw is None:
            raise params_error(
                f"request body too large: {request.content_length} bytes exceeds the limit of "
                f"{self.max_body_bytes} bytes"
            ) from None
        try:
            text = raw.decode("utf-8")
            values = json.loads(text) if text.strip() else {}
        except (UnicodeDecodeError, ValueError, RecursionError):
            # ValueError covers malformed JSON and integers too long to convert.
            raise params_error("Request parameter error.") from None
        if not isinstance(values, dict):
            raise params_error("Request parameter error.")
        return text, values
