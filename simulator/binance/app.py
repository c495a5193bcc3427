"""The Binance USD-M venue as an aiohttp application: REST dispatch, signing, Binance's error shapes.

The same engine as the Bybit venue, behind Binance's wire: form-encoded parameters, numeric
ids, ``{"code": -NNNN, "msg": ...}`` errors with Binance's HTTP statuses, and the used-weight and
order-count headers; the user data and market streams over WebSocket.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from aiohttp.typedefs import Middleware

from simulator.binance.auth import INVALID_KEY, api_key_account, authenticate
from simulator.binance.errors import NOT_FOUND, SYSTEM_ERROR, BinanceError, from_rejection
from simulator.binance.handlers import ROUTES
from simulator.binance.ids import NumericIds
from simulator.binance.limits import Limiter, RateLimits
from simulator.binance.listen_keys import ListenKeys
from simulator.binance.market_streams import MarketStreams
from simulator.binance.params import Params
from simulator.binance.routing import KEY, PUBLIC, Call, Route
from simulator.binance.streams import UserStreams
from simulator.control import Control
from simulator.engine.accounts import Account
from simulator.engine.events import EngineEvent, Executed
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
ACTOR = "binance"
DEFAULT_MAX_BODY_BYTES = 64 * 1024
TRACED_HEADERS = ("X-MBX-APIKEY",)
ORDER_PATHS = frozenset({"/fapi/v1/order", "/fapi/v1/algoOrder", "/fapi/v1/batchOrders"})
# What a placement counts against the 10-second and minute order limits (Binance: a batch is 5 and 1).
_ORDER_COUNTS = {"/fapi/v1/batchOrders": (5, 1)}
# The authenticated account, kept on the request for the order-count headers.
_ACCOUNT: web.RequestKey[Account | None] = web.RequestKey("binance.account", object)  # type: ignore[arg-type]


class BinanceVenue:
    """One Binance USD-M venue: an engine behind Binance's futures REST wire."""

    def __init__(
        self, engine: Engine, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, trace: Recorder = NO_TRACE,
        control_token: str | None = None, rate_limits: RateLimits = RateLimits(),
    ) -> None:
        self.engine = engine
        self.limiter = Limiter(rate_limits)
        self.max_body_bytes = max_body_bytes
        self.trace = trace
        self.control_token = control_token
        trace_venue(engine, trace, ACTOR)
        self.faults = FaultPlan.for_engine(engine, trace, ACTOR)
        self.ids = NumericIds(engine.ids.child())
        engine.subscribe(self._number_trades)
        self.listen_keys = ListenKeys(engine.ids.child())
        router = FrameRouter(self.faults, trace, ACTOR)
        self.streams = UserStreams(engine, self.ids, self.listen_keys, on_internal_error=self.record_internal_error, trace=trace,
                                   router=router)
        self.market_streams = MarketStreams(engine, self.ids, on_internal_error=self.record_internal_error,
                                            trace=trace, router=router)
        self.internal_errors: list[str] = []
        self._routes: dict[tuple[str, str], Route] = {(r.method, r.path): r for r in ROUTES}

    def build_app(self) -> web.Application:
        middlewares: list[Middleware] = [read_body, rest_faults(self.faults, self.trace, ACTOR)]
        if self.trace is not NO_TRACE:
            middlewares.append(rest_recorder(self.trace, ACTOR, TRACED_HEADERS))
        app = web.Application(client_max_size=self.max_body_bytes, middlewares=middlewares)
        app.router.add_get("/private/ws", self.streams.handler)
        app.router.add_get("/ws/{listen_key}", self.streams.handler)
        for path in ("/market/ws", "/market/ws/{index}", "/public/ws", "/public/ws/{index}"):
            app.router.add_get(path, self.market_streams.handler)
        Control(self.engine, faults=self.faults, drop_streams=self.streams.drop, token=self.control_token,
                trace=self.trace, extra=(("POST", "/sim/listen-keys/lapse", self._lapse_listen_keys),)).add_routes(app)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        app.on_shutdown.append(self.streams.close_all)
        app.on_shutdown.append(self.market_streams.close_all)
        app.cleanup_ctx.append(funding_clock(self.engine, self.record_internal_error))
        return app

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        # The supervisor of every REST request: the client always gets a Binance answer.
        try:
            try:
                response = await self._dispatch(request)
            except BinanceError as error:
                response = web.json_response({"code": error.code, "msg": error.msg}, status=error.status,
                                             headers=error.headers)
            except Rejection as rejection:
                refusal = from_rejection(rejection)
                response = web.json_response({"code": refusal.code, "msg": refusal.msg}, status=refusal.status)
        except Exception:  # noqa: BLE001 - top-level supervisor: a bug becomes a venue answer, not a 500
            self.record_internal_error(f"{request.method} {request.rel_url.raw_path_qs}")
            response = web.json_response({"code": SYSTEM_ERROR.code, "msg": SYSTEM_ERROR.msg}, status=SYSTEM_ERROR.status)
        self._count(request, response)
        return response

    async def _lapse_listen_keys(self, _request: web.Request) -> web.Response:
        """Control: every live listen key runs out now (listenKeyExpired on its streams)."""
        lapsed = [key for account in self.engine.accounts()
                  if (key := self.streams.lapse(account.account_id)) is not None]
        return web.json_response({"lapsed": len(lapsed)})

    def _number_trades(self, batch: Sequence[EngineEvent]) -> None:
        # Binance numbers a symbol's trades (and its aggregate trades) in the order they happen; issuing
        # on first sight would number them in the order a client happened to ask.
        for event in batch:
            if isinstance(event, Executed) and event.execution.is_trade:
                self.ids.trade(event.execution.exec_id, event.execution.symbol)
                self.ids.agg(event.execution.exec_id, event.execution.symbol)

    def record_internal_error(self, where: str) -> None:
        detail = traceback.format_exc()
        self.internal_errors.append(f"{where}\n{detail}")
        log.error("internal error in %s\n%s", where, detail)

    def _count(self, request: web.Request, response: web.StreamResponse) -> None:
        now = self.engine.now_ms()
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(self.limiter.used_weight(_ip(request), now))
        account = request.get(_ACCOUNT)
        if request.path in ORDER_PATHS and account is not None:
            per_10s, per_minute = self.limiter.order_counts(str(account.account_id), now)
            response.headers["X-MBX-ORDER-COUNT-10S"] = str(per_10s)
            response.headers["X-MBX-ORDER-COUNT-1M"] = str(per_minute)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        route = self._routes.get((request.method, request.path))
        now = self.engine.now_ms()
        if route is None:
            self.limiter.admit(_ip(request), 1, now)
            raise BinanceError(NOT_FOUND.code, f"Path {request.path}, Method {request.method} is invalid (this"
                               " simulator doesn't (yet) support it)", status=404)
        raw = raw_body(request)
        if raw is None:
            raise BinanceError(-1104, f"Too many parameters sent for this endpoint (body over {self.max_body_bytes}"
                               " bytes)", status=413)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BinanceError(-1100, "Illegal characters found in a parameter.") from None
        query = request.rel_url.raw_query_string
        values = dict(parse_qsl(query, keep_blank_values=True))
        values.update(parse_qsl(body, keep_blank_values=True))
        self.limiter.admit(_ip(request), route.weight_of(values), now)
        account = None
        if route.auth == KEY:
            account = api_key_account(self.engine, request.headers)
        elif route.auth != PUBLIC:
            account = authenticate(self.engine, request.headers, query + body, values, now_ms=now)
            if account.read_only and request.method != "GET":  # a key without trading permission may only read
                raise INVALID_KEY
        request[_ACCOUNT] = account
        # A modify (PUT) counts against the order-count limits as a new order does (Binance's docs).
        placing = account is not None and request.method in ("POST", "PUT") and request.path in ORDER_PATHS
        if placing:
            assert account is not None
            self.limiter.admit_order(str(account.account_id), now)
        result: Any = route.handler(Call(engine=self.engine, params=Params(values), account=account, now_ms=now,
                                         ids=self.ids, listen_keys=self.listen_keys, limits=self.limiter.limits))
        if placing:
            assert account is not None
            per_10s, per_minute = _ORDER_COUNTS.get(request.path, (1, 1))
            self.limiter.placed(str(account.account_id), now, per_10s=per_10s, per_minute=per_minute)
        return web.json_response(result)


def _ip(request: web.Request) -> str:
    return request.remote or "unknown"
