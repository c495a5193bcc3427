"""The harness's own control routes (``/sim/...``): what a test does in-process, over HTTP.

Bots in other languages run against the standalone venue; their tests move prices and
inspect the venue through these routes. They are not part of any exchange's API, take
and return plain JSON, and answer errors with ``{"error": ...}`` and HTTP 400.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from simulator.engine.rejections import Rejection, RejectReason
from simulator.engine.venue import Engine


def _error(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


class Control:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/sim/price", self.set_price)
        app.router.add_post("/sim/restart", self.restart)
        app.router.add_get("/sim/state", self.state)

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
        """A venue restart: recently closed orders drop out of the real-time query."""
        self._engine.restart()
        return web.json_response({"restarted": True})

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
