"""Binance USD-M futures over ccxt: REST via ``binanceusdm``, the user data stream via ccxt.pro.

Binance answers an order with the full order (``newOrderRespType=RESULT``, which ccxt always
sends), so the create answer alone can confirm an entry; conditional orders go to the algo order
service (ccxt routes ``stopLossPrice`` there and maps our client id to ``clientAlgoId``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, TypeVar

import ccxt
import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from bot.adapters.ccxt_reports import order_report, position_report
from bot.adapters.stream import OrderStream
from bot.errors import OutcomeUnknown, Rejected, RetryLater, translate
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


class BinanceVenue:
    name = "binance"

    def __init__(
        self, *, api_key: str, secret: str, rest_url: str | None = None, ws_url: str | None = None,
        testnet: bool = False, client_options: Mapping[str, Any] | None = None,
    ) -> None:
        config: dict[str, Any] = {
            "apiKey": api_key,
            "secret": secret,
            "enableLastJsonResponse": True,  # reads are checked against what actually came back
            "options": {"fetchCurrencies": False, "fetchOpenOrders": {"warnWithoutSymbol": False}},
        }
        if rest_url:
            config["urls"] = binance_urls(rest_url, ws_url)
        config.update(client_options or {})
        self._rest: Any = ccxt_async.binanceusdm(dict(config))
        pro: Any = ccxt_pro.binanceusdm(dict(config))
        if testnet:
            self._rest.set_sandbox_mode(True)
            pro.set_sandbox_mode(True)
        self._stream = OrderStream(pro, log)
        self._pro = pro
        self._read_lock = asyncio.Lock()

    async def start(self) -> None:
        await self._call("load_markets", lambda: self._rest.load_markets(), write=False)
        self._pro.set_markets_from_exchange(self._rest)  # one catalogue fetch serves both clients
        self._stream.start()

    async def close(self) -> None:
        await self._stream.close()
        await self._rest.close()

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, write: bool) -> T:
        try:
            return await call()
        except ccxt.BaseError as error:
            raise translate(error, write=write, what=what) from error

    async def _read(self, what: str, call: Callable[[], Awaitable[T]], shape: type) -> T:
        """A read whose raw answer must have the JSON shape Binance sends, else ``RetryLater``."""
        async with self._read_lock:
            self._rest.last_json_response = None
            result = await self._call(what, call, write=False)
            answer = self._rest.last_json_response
        if not isinstance(answer, shape):
            raise RetryLater(f"{what}: the answer was not Binance's {shape.__name__} ({repr(answer)[:120]})")
        return result

    # ------------------------------------------------------------------ writes

    async def create_entry(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        return await self._create(symbol, side.entry, qty, {"clientOrderId": client_id}, "create entry")

    async def create_stop(
        self, symbol: str, side: Side, qty: Decimal, trigger: Decimal, client_id: ClientOrderId
    ) -> Ack:
        params = {"stopLossPrice": float(trigger), "reduceOnly": True, "clientOrderId": client_id}
        return await self._create(symbol, side.exit, qty, params, "create stop")

    async def create_close(self, symbol: str, side: Side, qty: Decimal, client_id: ClientOrderId) -> Ack:
        return await self._create(symbol, side.exit, qty, {"reduceOnly": True, "clientOrderId": client_id},
                                  "create close")

    async def _create(self, symbol: str, side: str, qty: Decimal, params: dict[str, Any], what: str) -> Ack:
        order = await self._call(
            what, lambda: self._rest.create_order(symbol, "market", side, float(qty), None, dict(params)), write=True
        )
        if not order or order.get("id") is None:
            raise OutcomeUnknown(f"{what}: the venue answered without an order id ({str(order)[:120]})")
        client_id = order.get("clientOrderId") or params.get("clientOrderId")
        return Ack(VenueOrderId(str(order["id"])), ClientOrderId(client_id) if client_id else None,
                   order_report(order, "create"))

    async def cancel(self, symbol: str, venue_order_id: VenueOrderId, *, stop: bool) -> bool:
        try:
            await self._rest.cancel_order(venue_order_id, symbol, {"trigger": True} if stop else {})
        except ccxt.OrderNotFound:
            return False
        except ccxt.BaseError as error:
            raise translate(error, write=True, what="cancel") from error
        return True

    # ------------------------------------------------------------------ reads

    def pushed(self, venue_order_id: VenueOrderId | None, client_id: ClientOrderId | None) -> OrderReport | None:
        return self._stream.pushed(venue_order_id, client_id)

    async def wait_for_push(
        self, venue_order_id: VenueOrderId | None, client_id: ClientOrderId | None, timeout_s: float
    ) -> OrderReport | None:
        return await self._stream.wait_for_push(venue_order_id, client_id, timeout_s)

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

    async def position(self, symbol: str) -> PositionReport | None:
        rows = await self._read("position", lambda: self._rest.fetch_positions([symbol]), list)
        found = [p for p in (position_report(row) for row in rows) if p is not None and p.symbol == symbol]
        return found[0] if found else None

    async def positions(self) -> list[PositionReport]:
        rows = await self._read("positions", lambda: self._rest.fetch_positions(), list)
        return [p for p in (position_report(row) for row in rows) if p is not None]

    async def open_stops(self) -> list[OrderReport]:
        orders = await self._read(
            "open stops", lambda: self._rest.fetch_open_orders(None, None, None, {"trigger": True}), list
        )
        reports = [order_report(o, "realtime") for o in orders]
        return [r for r in reports if r is not None and r.reduce_only and not r.status.is_final]

    async def stop_trigger(self, symbol: str, side: Side, price: Decimal) -> Decimal:
        market = self._rest.markets.get(symbol)
        if market is None:
            raise Rejected(f"{symbol} is not listed on {self.name}; no stop can be placed for it")
        tick = Decimal(str(market["precision"]["price"]))
        rounding = ROUND_CEILING if side is Side.SHORT else ROUND_FLOOR
        trigger = (price / tick).to_integral_value(rounding) * tick
        if trigger <= 0:
            raise Rejected(f"a {side.value} stop at {price} on {symbol} rounds to {trigger}; use a smaller stop_fraction")
        return trigger
