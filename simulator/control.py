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
from virtualtime.trace import NO_TRACE, Recorder, Trace

LOOPBACK = frozenset({"127.0.0.1", "::1"})
# Every control route lives under this prefix: REST faults and the trace leave it alone.
CONTROL_PREFIX = "/sim/"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _shown(fault: Fault) -> dict[str, Any]:
    return {"name": fault.name, "target": repr(fault.target), "effect": repr(fault.effect),
            "trigger": repr(fault.trigger)}


def _error(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


Drop = Callable[[], Awaitable[int]]
# Venue-specific control routes: (method, path, handler).
Extra = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


class Control:
    def __init__(
        self, engine: Engine, *, faults: FaultPlan | None = None, drop_streams: Drop | None = None,
        token: str | None = None, trace: Recorder = NO_TRACE, extra: tuple[Extra, ...] = (),
    ) -> None:
        self._engine = engine
        self._faults = faults or FaultPlan()
        self._drop_streams = drop_streams
        self._token = token
        self._trace = trace
        self._extra = extra

    def add_routes(self, app: web.Application) -> None:
        routes = [
            ("POST", "/sim/price", self.set_price), ("POST", "/sim/restart", self.restart),
            ("GET", "/sim/state", self.state), ("GET", "/sim/faults", self.list_faults),
            ("POST", "/sim/faults", self.add_fault), ("DELETE", "/sim/faults", self.clear_faults),
            ("GET", "/sim/trace", self.read_trace), ("POST", "/sim/closed-order-window", self.closed_order_window),
            *self._extra,
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

    async def clear_faults(self, request: web.Request) -> web.Response:
        """Every fault, or only the one named in ``?name=``."""
        name = request.rel_url.query.get("name")
        if name is not None:
            try:
                self._faults.remove(name)
            except ValueError as error:
                return _error(str(error))
            return web.json_response({"cleared": 1})
        cleared = len(self._faults.faults)
        self._faults.clear()
        return web.json_response({"cleared": cleared})

    async def read_trace(self, request: web.Request) -> web.Response:
        """The venue's trace records from ``?since=`` (a record's seq; 0 by default), as JSON objects."""
        if not isinstance(self._trace, Trace):
            return _error("this venue keeps no trace; start it with --trace (or pass trace= in-process)")
        try:
            since = int(request.rel_url.query.get("since", "0"))
        except ValueError:
            return _error(f"since must be a record number, got {request.rel_url.query.get('since')!r}")
        records = self._trace.records[max(since, 0):]
        return web.json_response({"records": [{"seq": r.seq, **json.loads(r.line())} for r in records],
                                  "next": len(self._trace)})

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

    async def closed_order_window(self, request: web.Request) -> web.Response:
        """``{"size": 500}``: how many recently closed orders real-time queries still serve (Bybit: 500)."""
        try:
            size = json.loads(await request.text())["size"]
        except (ValueError, RecursionError, KeyError, TypeError):
            return _error('expected a JSON body like {"size": 500}')
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            return _error(f"size must be a whole number >= 0, got {size!r}")
        try:
            self._engine.orders.resize_closed_window(size)
        except ValueError as error:
            return _error(str(error))
        return web.json_response({"size": size})

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
            "orders": [
                {"account": o.account_id, "order_id": o.order_id, "client_order_id": o.client_order_id,
                 "symbol": o.symbol, "side": o.side.value, "type": o.order_type.value, "qty": str(o.qty),
                 "filled": str(o.filled_qty), "status": o.status.value, "reduce_only": o.reduce_only,
                 "trigger_price": None if o.trigger_price is None else str(o.trigger_price)}
                for account in engine.accounts() for o in engine.orders.all_for(account.account_id)
            ],
        }
        return web.json_response(payload)
