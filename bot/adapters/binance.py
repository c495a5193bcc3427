"""Binance USD-M futures over ccxt: REST via ``binanceusdm``, the user data stream via ccxt.pro.

Binance answers an order with the full order (``newOrderRespType=RESULT``, which ccxt always
sends), so the create answer alone can confirm an entry; conditional orders go to the algo order
service (ccxt routes ``stopLossPrice`` there and maps our client id to ``clientAlgoId``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import ccxt
import ccxt.pro as ccxt_pro

from bot.adapters.base import PACING, CcxtVenue, shared_tls
from bot.adapters.ccxt_reports import order_report
from bot.adapters.stream import OrderStream
from bot.errors import HEDGE_FIX, Halt, RetryLater
from bot.values import Ack, ClientOrderId, OrderReport, PositionReport, Side, VenueOrderId

T = TypeVar("T")
log = logging.getLogger("bot.venue.binance")


def binance_urls(rest_url: str, ws_url: str | None = None) -> dict[str, Any]:
    """ccxt ``urls`` that send every USD-M call to ``rest_url`` (and the streams to ``ws_url``)."""
    http = rest_url.rstrip("/")
    ws = (ws_url or "ws" + http.removeprefix("http")).rstrip("/")
    return {"api": {
        "fapiPublic": f"{http}/fapi/v1", "fapiPublicV2": f"{http}/fapi/v2", "fapiPublicV3": f"{http}/fapi/v3",
        "fapiPrivate": f"{http}/fapi/v1", "fapiPrivateV2": f"{http}/fapi/v2", "fapiPrivateV3": f"{http}/fapi/v3",
        # ccxt.pro rewrites a base ending in /ws into /private/ws?listenKey=... for the user data stream
        "ws": {"linear": f"{ws}/ws"},
    }}


# How often open stops are read across every symbol (weight 40) rather than per symbol (weight 1 each).
FULL_STOP_SCAN_S = 600.0


class BinanceVenue(CcxtVenue):
    name = "binance"
    _position_updated = "timestamp"  # updateTime

    def __init__(
        self, *, api_key: str, secret: str, rest_url: str | None = None, ws_url: str | None = None,
        testnet: bool = False, client_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        config: dict[str, Any] = {
            "apiKey": api_key,
            "secret": secret,
            "enableLastJsonResponse": True,  # reads are checked against what actually came back
            # ccxt.pro would fetch a position snapshot (weight 6) on every stream connection for a
            # watch_positions the bot never makes, and leave it failing unretrieved at shutdown.
            "options": {"fetchCurrencies": False, "fetchOpenOrders": {"warnWithoutSymbol": False},
                        "watchPositions": {"fetchPositionsSnapshot": False}},
        }
        if rest_url:
            config["urls"] = binance_urls(rest_url, ws_url)
        config.update(PACING)
        config.update(shared_tls(client_options or {}))
        config.update(client_options or {})
        # One ccxt.pro client serves REST and the stream: one market catalogue, and one rate limiter
        # for the one weight budget Binance counts per IP (two clients would each spend all of it).
        self._rest: Any = ccxt_pro.binanceusdm(config)
        if testnet:
            self._rest.set_sandbox_mode(True)
        self._stream = OrderStream(self._rest, log)
        self._stop_symbols: set[str] = set()
        self._full_scan_at: float | None = None  # loop time of the last read of every symbol's stops

    async def start(self) -> None:
        await self._call("load_markets", lambda: self._rest.load_markets(), write=False)
        await self._one_way_mode()
        self._stream.start()

    async def _one_way_mode(self) -> None:
        # Every order and report of the bot is one-way: in hedge mode Binance refuses each order
        # (-4061) and lists a position per side. Better to stop at start, saying how to fix it.
        mode = await self._read("position mode", lambda: self._rest.fetch_position_mode())
        hedged = mode.get("hedged")
        if hedged is True:
            raise Halt(f"position mode: dualSidePosition is true; {HEDGE_FIX}")
        if hedged is not False:
            raise RetryLater(f"position mode: the answer did not say ({mode.get('info')!r}); not trusting it")

    def _untrusted(self, answer: Any, expect: type) -> str | None:
        return None if isinstance(answer, expect) else f"the answer was not Binance's {expect.__name__}"

    def _cancel_params(self, stop: bool) -> dict[str, Any]:
        return {"trigger": True} if stop else {}

    # ------------------------------------------------------------------ writes

    async def create_entry(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        return await self._create(symbol, side.entry, qty, {"clientOrderId": client_id}, "create entry")

    async def create_stop(
        self, symbol: str, side: Side, qty: Decimal, trigger: Decimal, client_id: ClientOrderId
    ) -> Ack:
        self._stop_symbols.add(symbol)  # before sending: an answer lost after the venue took it still counts
        params = {"stopLossPrice": float(trigger), "reduceOnly": True, "clientOrderId": client_id}
        return await self._create(symbol, side.exit, qty, params, "create stop")

    async def create_close(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        return await self._create(symbol, side.exit, qty, {"reduceOnly": True, "clientOrderId": client_id},
                                  "create close")

    # ------------------------------------------------------------------ reads

    async def order_realtime(
        self, symbol: str, *, venue_order_id: VenueOrderId | None = None, client_id: ClientOrderId | None = None,
        stop: bool = False,
    ) -> OrderReport | None:
        params: dict[str, Any] = {"trigger": True} if stop else {}
        if client_id is not None:
            params["clientOrderId"] = client_id

        async def fetch() -> dict[str, Any] | None:
            try:
                found: dict[str, Any] = await self._rest.fetch_order(venue_order_id, symbol, params)
            except ccxt.OrderNotFound:
                return None  # Binance's -2013: a definite "no such order", not a failed read
            return found

        order = await self._read("order query", fetch, dict)
        return None if order is None else order_report(order, "realtime")

    async def order_history(
        self, symbol: str, *, venue_order_id: VenueOrderId | None = None, client_id: ClientOrderId | None = None,
        stop: bool = False,
    ) -> OrderReport | None:
        if stop:
            return None  # algo orders have their own queries; the lookup above serves them
        orders = await self._read("all orders", lambda: self._rest.fetch_orders(symbol), list)
        for order in reversed(orders):
            if (venue_order_id and str(order.get("id")) == venue_order_id) or (
                    client_id and order.get("clientOrderId") == client_id):
                return order_report(order, "history")
        return None

    async def stop_outcome(self, symbol: str, venue_order_id: VenueOrderId) -> OrderReport | None:
        """The algo order, with ``filled`` from the account's trades. Binance documents no executed
        quantity on an algo order (ccxt reads none), only its status, FINISHED ("the triggered order
        has been filled or canceled in the matching engine"), and when it triggered. What its order
        executed is read from the exit-side fills on the symbol since that trigger, in time order, up
        to the first that makes the algo's quantity: ``updated_ms`` is that fill's time, so a later
        trade on the symbol (someone else's) moves neither the amount nor the time of the stop's fill."""

        async def fetch() -> dict[str, Any] | None:
            try:
                found: dict[str, Any] = await self._rest.fetch_order(venue_order_id, symbol, {"trigger": True})
            except ccxt.OrderNotFound:
                return None
            return found

        order = await self._read("algo order query", fetch, dict)
        report = None if order is None else order_report(order, "realtime")
        info = order.get("info") if order is not None else None
        if report is None or not isinstance(info, dict) or info.get("algoStatus") != "FINISHED":
            return report
        triggered_ms = _positive_int(info.get("triggerTime"))
        if triggered_ms is None:
            return dataclasses.replace(report, filled=Decimal(0))
        trades = await self._read("trades", lambda: self._rest.fetch_my_trades(symbol, triggered_ms), list)
        exits = sorted((t for t in trades if t.get("side") == report.side and (t.get("timestamp") or 0) >= triggered_ms),
                       key=lambda t: int(t["timestamp"]))
        filled, at_ms = Decimal(0), report.updated_ms
        for trade in exits:
            if filled >= report.qty:
                break
            filled += Decimal(str(trade["amount"]))
            at_ms = int(trade["timestamp"])
        return dataclasses.replace(report, filled=filled, updated_ms=at_ms, source="trades")

    async def positions(self) -> list[PositionReport]:
        held = await super().positions()
        self._stop_symbols.update(p.symbol for p in held if p.size > 0)
        return held

    async def open_stops(self) -> list[OrderReport]:
        """Every open stop of the account. Binance charges weight 40 for the list across all symbols
        (ccxt then paces the next call 2 s later) and 1 per symbol: between full scans every
        ``FULL_STOP_SCAN_S``, only the symbols that can hold one of ours are read: those held at the
        last position read, those a stop was placed on, and those a stop was seen on since the last
        full scan. A symbol ccxt has no market for (listed after start) makes the read a full one."""
        now = asyncio.get_running_loop().time()
        tracked = set(self._stop_symbols)
        full = self._full_scan_at is None or now - self._full_scan_at >= FULL_STOP_SCAN_S or \
            any(symbol not in self._rest.markets for symbol in tracked)
        if full:
            orders = await self._read(
                "open stops", lambda: self._rest.fetch_open_orders(None, None, None, {"trigger": True}), list,
                scan=True)
            self._full_scan_at = now
        else:
            orders = []
            for symbol in sorted(tracked):
                orders += await self._read("open stops", self._stops_on(symbol), list, scan=True)
        reports = [order_report(o, "realtime") for o in orders]
        stops = [r for r in reports if r is not None and r.reduce_only and not r.status.is_final]
        seen = {r.symbol for r in stops}
        # Only a full scan may forget a symbol (a stop hidden from one read must not drop out of
        # sight); symbols added while the read was under way are kept either way.
        added_meanwhile = self._stop_symbols - tracked
        self._stop_symbols = (seen if full else self._stop_symbols | seen) | added_meanwhile
        return stops

    def _stops_on(self, symbol: str) -> Callable[[], Awaitable[Any]]:
        return lambda: self._rest.fetch_open_orders(symbol, None, None, {"trigger": True})


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None
