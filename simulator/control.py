"""The harness's own control routes (``/sim/...``): what a test does in-process, over HTTP.

Bots in other languages run against the standalone venue; their tests move prices, plan
faults and inspect the venue through these routes. They are not part of any exchange's API, take
and return plain JSON, and answer errors with ``{"error": ...}`` and HTTP 400. They answer only
loopback clients (403 otherwise) and, when the venue has a control token, only requests carrying
it in ``X-Sim-Token`` (401 otherwise).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.venue import Engine
from simulator.faults.plan import Fault, FaultPlan
from simulator.faults.spec import fault_from_table

LOOPBACK = frozenset({"127.0.0.1", "::1"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _shown(fault: Fault) -> dict[str, Any]:
    return {"name": fault.name, "target": repr(fault.target), "effect": repr(fault.effect),
            "trigger": repr(fault.trigger)}


def _error(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


Drop = Callable[[], Awaitable[int]]


class Control:
    def __init__(
        self, engine: Engine, *, faults: FaultPlan | None = None, drop_streams: Drop | None = None,
        token: str | None = None,
    ) -> None:
        self._engine = engine
        self._faults = faults or FaultPlan()
        self._drop_streams = drop_streams
        self._token = token

    def add_routes(self, app: web.Application) -> None:
        routes = [
            ("POST", "/sim/price", self.set_price), ("POST", "/sim/restart", self.restart),
            ("GET", "/sim/state", self.state), ("GET", "/sim/faults", self.list_faults),
            ("POST", "/sim/faults", self.add_fault), ("DELETE", "/sim/faults", self.clear_faults),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, path, self._guarded(handler))

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            if request.remote not in LOOPBACK:
                return web.json_response({"error": f"control routes answer loopback clients only, not {request.remote}"},
                                         status=403)
            if self._token is not None and not hmac.compare_digest(request.headers.get("X-Sim-Token", ""), self._token):
                return web.json_response({"error": "missing or wrong X-Sim-Token; the venue printed its token at start"},
                                         status=401)
            return await handler(request)

        return guarded

    async def list_faults(self, _request: web.Request) -> web.Response:
        return web.json_response({"faults": [_shown(f) for f in self._faults.faults]})

    async def add_fault(self, request: web.Request) -> web.Response:
        """A fault as a JSON object with the keys of a scenario file's ``[[fault]]`` table."""
        try:
            table = json.loads(await request.text())
        except (ValueError, RecursionError):
            return _error("expected a JSON object describing one fault (see docs/scenarios.md)")
        if not isinstance(table, dict):
            return _error("expected a JSON object describing one fault (see docs/scenarios.md)")
        try:
            fault = fault_from_table(table)
            self._faults.add(fault)
        except ValueError as error:
            return _error(str(error))
        return web.json_response({"added": _shown(fault)})

    async def clear_faults(self, _request: web.Request) -> web.Response:
        cleared = len(self._faults.faults)
        self._faults.clear()
        return web.json_response({"cleared": cleared})

    async def set_price(self, request: web.Request) -> web.Response:
        """``{"symbol": "BTCUSDT", "price": "61000"}``: move the market (fires triggers, fills limits)."""
        try:
            body = json.loads(await request.text())
            symbol, price = str(body["symbol"]), Decimal(str(body["price"]))
        except (ValueError, RecursionError, KeyError, TypeError, InvalidOperation):
            return _error('expected a JSON body like {"symbol": "BTCUSDT", "price": "61000"}')
        if not price.is_finite() or price <= 0:
            return _error(f"price must be a positive number, got {body['price']!r}")
        try:
            self._engine.set_price(symbol, price)
        except Rejection as rejection:
            if rejection.reason is RejectReason.UNKNOWN_SYMBOL:
                return _error(f"{rejection}; listed: {[i.symbol for i in self._engine.instruments()]}")
            return _error(f"{rejection}; give a price on the instrument's tick grid, within its price filter")
        return web.json_response({"symbol": symbol, "price": str(price)})

    async def restart(self, _request: web.Request) -> web.Response:
        """A venue restart: private streams dropped, recently closed orders out of the real-time query."""
        self._engine.restart()
        dropped = await self._drop_streams() if self._drop_streams is not None else 0
        return web.json_response({"restarted": True, "streams_dropped": dropped})

    async def state(self, _request: web.Request) -> web.Response:
        engine = self._engine
        payload: dict[str, Any] = {
            "time_ms": engine.now_ms(),
            "prices": {i.symbol: str(engine.market(i.symbol).last_price) for i in engine.instruments()},
            "positions": [
                {"account": p.account_id, "symbol": p.symbol, "size": str(p.size), "entry_price": str(p.entry_price)}
                for p in engine.all_positions()
                if not p.is_flat
            ],
        }
        return web.json_response(payload)
