"""Bybit v5 (unified account, USDT linear) over ccxt: REST via ``ccxt.async_support``, pushes via ``ccxt.pro``.

The only place the bot handles ccxt for Bybit. Every ccxt exception is translated here, once.
Bybit answers a create or cancel with ids only, so ``create_*`` return an ``Ack`` without a
report; the caller confirms from the push, the order views and the position.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.pro as ccxt_pro

from bot.adapters.base import PACING, CcxtVenue, shared_tls
from bot.adapters.ccxt_reports import order_report
from bot.adapters.stream import OrderStream
from bot.errors import RetryLater
from bot.values import Ack, ClientOrderId, OrderReport, Side, VenueOrderId

log = logging.getLogger("bot.venue.bybit")
T = TypeVar("T")
STOP_PAGE = 50  # Bybit's most open orders a page
STOP_PAGES = 20


def bybit_urls(rest_url: str, ws_url: str | None = None) -> dict[str, Any]:
    """ccxt ``urls`` that send every Bybit call to ``rest_url`` (and streams to ``ws_url``)."""
    http = rest_url.rstrip("/")
    ws = (ws_url or "ws" + http.removeprefix("http")).rstrip("/")
    return {
        "api": {
            "spot": http, "futures": http, "v2": http, "public": http, "private": http,
            "ws": {
                "public": {"linear": f"{ws}/v5/public/linear"},
                "private": {"contract": f"{ws}/v5/private", "spot": f"{ws}/v5/private", "usdc": f"{ws}/v5/private"},
            },
        }
    }


# How the bot configures its ccxt client for Bybit, credentials and endpoints aside.
CLIENT_OPTIONS: dict[str, Any] = {
    # Reads are checked against the raw envelope: ccxt turns an empty 200 into "no orders".
    "enableLastJsonResponse": True,
    # A linear-only bot: two market calls instead of twelve, and no coin-info call.
    "has": {"fetchCurrencies": False},
    "options": {
        "fetchMarkets": {"types": ["linear"]},
        "enableUnifiedAccount": True,
        "enableUnifiedMargin": False,
        "defaultType": "swap",
    },
    **PACING,
}


class BybitVenue(CcxtVenue):
    name = "bybit"
    _position_updated = "lastUpdateTimestamp"  # updatedTime (ccxt's timestamp is createdTime)

    def __init__(
        self,
        *,
        api_key: str,
        secret: str,
        rest_url: str | None = None,
        ws_url: str | None = None,
        testnet: bool = False,
        client_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        config: dict[str, Any] = {"apiKey": api_key, "secret": secret, **copy.deepcopy(CLIENT_OPTIONS)}
        if rest_url:
            config["urls"] = bybit_urls(rest_url, ws_url)
        config.update(shared_tls(client_options or {}))
        config.update(client_options or {})
        # One ccxt.pro client serves REST and the stream: one market catalogue, one rate limiter.
        self._rest: Any = ccxt_pro.bybit(config)
        if testnet:
            self._rest.set_sandbox_mode(True)
        self._stream = OrderStream(self._rest, log)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self._call("load_markets", lambda: self._rest.load_markets(), write=False)
        self._stream.start()

    def _untrusted(self, answer: Any, expect: type) -> str | None:
        if not isinstance(answer, dict) or answer.get("retCode") != 0 or not isinstance(answer.get("result"), dict):
            return "the answer was not a Bybit envelope with retCode 0"
        return None

    # ------------------------------------------------------------------ writes

    async def create_entry(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        return await self._create(symbol, side.entry, qty, {"clientOrderId": client_id}, "create entry")

    async def create_stop(
        self, symbol: str, side: Side, qty: Decimal, trigger: Decimal, client_id: ClientOrderId
    ) -> Ack:
        # stopLossPrice alone makes ccxt send a reduce-only conditional market order with the
        # trigger direction that fires when the price moves against ``side``.
        params = {"stopLossPrice": float(trigger), "clientOrderId": client_id}
        return await self._create(symbol, side.exit, qty, params, "create stop")

    async def create_close(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        params = {"reduceOnly": True, "clientOrderId": client_id}
        return await self._create(symbol, side.exit, qty, params, "create close")

    # ------------------------------------------------------------------ reads

    async def order_realtime(
        self, symbol: str, *, venue_order_id: VenueOrderId | None = None, client_id: ClientOrderId | None = None,
        stop: bool = False,
    ) -> OrderReport | None:
        params = _lookup_params(venue_order_id, client_id, stop)
        orders = await self._read("order realtime", lambda: self._rest.fetch_open_orders(symbol, None, None, params))
        return _first(orders, "realtime")

    async def order_history(
        self, symbol: str, *, venue_order_id: VenueOrderId | None = None, client_id: ClientOrderId | None = None,
        stop: bool = False,
    ) -> OrderReport | None:
        params = _lookup_params(venue_order_id, client_id, stop)
        orders = await self._read(
            "order history", lambda: self._rest.fetch_canceled_and_closed_orders(symbol, None, None, params)
        )
        return _first(orders, "history")

    async def stop_outcome(self, symbol: str, venue_order_id: VenueOrderId) -> OrderReport | None:
        # A triggered conditional order keeps its id and reports its own execution (cumExecQty); the
        # real-time query serves the latest 500 closed orders, the history the rest.
        return await self.order_realtime(symbol, venue_order_id=venue_order_id, stop=True) or \
            await self.order_history(symbol, venue_order_id=venue_order_id, stop=True)

    async def open_stops(self) -> list[OrderReport]:
        # Page by page, each its own read: every page's envelope is checked, the client is free for
        # lookups between pages, and a failed page fails the read at once (the bot's passes retry).
        # Not ccxt's "paginate": with no ``since`` it moves to the next page through an error it
        # retries up to three times, so one failing page costs four timeouts with the client held.
        orders: list[Any] = []
        cursor = ""
        for _ in range(STOP_PAGES):
            params: dict[str, Any] = {"trigger": True, **({"cursor": cursor} if cursor else {})}
            page, answer = await self._read_answer(
                "open stops", lambda: self._rest.fetch_open_orders(None, None, STOP_PAGE, params), scan=True)
            orders += page
            result = answer["result"]
            cursor = result.get("nextPageCursor") or ""
            # Bybit puts a cursor on every page that holds anything, the last included: a short page
            # is the last one, and saves the request that would only fetch an empty page.
            if not cursor or len(result.get("list") or []) < STOP_PAGE:
                break
        else:
            raise RetryLater(f"open stops: more than {STOP_PAGES * STOP_PAGE} open stops, past what the bot reads")
        reports = [order_report(o, "realtime") for o in orders]
        return [r for r in reports if r is not None and r.reduce_only and r.status.is_final is False]


def _lookup_params(venue_order_id: VenueOrderId | None, client_id: ClientOrderId | None, stop: bool) -> dict[str, Any]:
    if (venue_order_id is None) == (client_id is None):
        raise ValueError(f"look an order up by exactly one id, got venue id {venue_order_id!r} and client id {client_id!r}")
    params: dict[str, Any] = {"orderId": venue_order_id} if venue_order_id else {"orderLinkId": client_id}
    if stop:
        params["trigger"] = True
    return params


def _first(orders: list[dict[str, Any]], source: str) -> OrderReport | None:
    for order in orders:
        report = order_report(order, source)
        if report is not None:
            return report
    return None
