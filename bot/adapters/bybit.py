"""Bybit v5 (unified account, USDT linear) over ccxt: REST via ``ccxt.async_support``, pushes via ``ccxt.pro``.

The only place the bot handles ccxt for Bybit. Every ccxt exception is translated here, once.
Bybit answers a create or cancel with ids only, so ``create_*`` return an ``Ack`` without a
report; the caller confirms from the push, the order views and the position.
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

log = logging.getLogger("bot.venue.bybit")
T = TypeVar("T")


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


class BybitVenue:
    name = "bybit"

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
        config: dict[str, Any] = {
            "apiKey": api_key,
            "secret": secret,
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
        }
        if rest_url:
            config["urls"] = bybit_urls(rest_url, ws_url)
        config.update(client_options or {})
        self._rest: Any = ccxt_async.bybit(dict(config))
        self._pro: Any = ccxt_pro.bybit(dict(config))
        if testnet:
            self._rest.set_sandbox_mode(True)
            self._pro.set_sandbox_mode(True)
        self._stream = OrderStream(self._pro, log)
        self._read_lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self._call("load_markets", lambda: self._rest.load_markets(), write=False)
        # One catalogue fetch serves both clients.
        self._pro.markets, self._pro.markets_by_id = self._rest.markets, self._rest.markets_by_id
        self._pro.symbols = self._rest.symbols
        self._stream.start()

    async def close(self) -> None:
        await self._stream.close()
        await self._rest.close()

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, write: bool) -> T:
        try:
            return await call()
        except ccxt.BaseError as error:
            raise translate(error, write=write, what=what) from error

    async def _read(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """A read whose answer must have been Bybit's own envelope with retCode 0, else ``RetryLater``."""
        async with self._read_lock:  # last_json_response belongs to the one call in flight
            self._rest.last_json_response = None
            result = await self._call(what, call, write=False)
            envelope = self._rest.last_json_response
        if not isinstance(envelope, dict) or envelope.get("retCode") != 0 or not isinstance(envelope.get("result"), dict):
            shown = repr(envelope)[:120]
            raise RetryLater(f"{what}: the answer was not a Bybit envelope with retCode 0 ({shown}); not trusting it")
        return result

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

    async def _create(self, symbol: str, side: str, qty: Decimal, params: dict[str, Any], what: str) -> Ack:
        order = await self._call(
            what, lambda: self._rest.create_order(symbol, "market", side, float(qty), None, params), write=True
        )
        if not order or order.get("id") is None:
            # An empty or id-less 200: the order may exist; only a lookup by client id can tell.
            raise OutcomeUnknown(f"{what}: the venue answered without an order id ({str(order)[:120]})")
        client_id = order.get("clientOrderId") or params.get("clientOrderId")
        return Ack(
            venue_order_id=VenueOrderId(str(order["id"])),
            client_order_id=ClientOrderId(client_id) if client_id else None,
            report=order_report(order, "create"),
        )

    async def cancel(self, symbol: str, venue_order_id: VenueOrderId, *, stop: bool) -> bool:
        # Linear conditional orders cancel by id like any other (ccxt's trigger flag is for spot).
        try:
            await self._rest.cancel_order(venue_order_id, symbol)
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

    async def position(self, symbol: str) -> PositionReport | None:
        rows = await self._read("position", lambda: self._rest.fetch_positions([symbol]))
        found = [p for p in (position_report(row) for row in rows) if p is not None and p.symbol == symbol]
        return found[0] if found else None

    async def positions(self) -> list[PositionReport]:
        rows = await self._read("positions", lambda: self._rest.fetch_positions())
        return [p for p in (position_report(row) for row in rows) if p is not None]

    async def open_stops(self) -> list[OrderReport]:
        params = {"trigger": True, "paginate": True}  # 50 a page, following nextPageCursor
        orders = await self._read("open stops", lambda: self._rest.fetch_open_orders(None, None, None, params))
        reports = [order_report(o, "realtime") for o in orders]
        return [r for r in reports if r is not None and r.reduce_only and r.status.is_final is False]

    async def stop_trigger(self, symbol: str, side: Side, price: Decimal) -> Decimal:
        # ccxt's price_to_precision rounds to nearest, which can pull a stop onto the entry price;
        # a stop rounds away from the market instead (up above a short, down below a long).
        if symbol not in self._rest.markets:  # listed after start: the catalogue is reloaded once
            await self._call("load_markets", lambda: self._rest.load_markets(True), write=False)
        market = self._rest.markets.get(symbol)
        if market is None:
            raise Rejected(f"{symbol} is not listed on {self.name}; no stop can be placed for it")
        tick = Decimal(str(market["precision"]["price"]))
        rounding = ROUND_CEILING if side is Side.SHORT else ROUND_FLOOR
        trigger = (price / tick).to_integral_value(rounding) * tick
        if trigger <= 0:
            raise Rejected(f"a {side.value} stop at {price} on {symbol} rounds to {trigger}; use a smaller stop_fraction")
        return trigger


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
