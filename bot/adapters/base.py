"""What both ccxt adapters share: translated calls, trusted reads, the order stream, writes and stop triggers.

A subclass builds its ccxt clients, says which answers it trusts (``_untrusted``), and implements
the lookups, whose endpoints differ from venue to venue.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Awaitable, Callable, Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, TypeVar

import ccxt

from bot.adapters.ccxt_reports import order_report, position_report
from bot.adapters.gate import ReadGate
from bot.adapters.stream import OrderStream
from bot.errors import OutcomeUnknown, Rejected, RetryLater, translate
from bot.values import Ack, ClientOrderId, OrderReport, PositionReport, Side, VenueOrderId

T = TypeVar("T")


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The TLS context ccxt would build for each client (certifi's CA bundle), built once per process:
    loading the bundle costs about 20 ms a client, paid again at every restart of the adapters."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


# Client options with which ccxt builds its own TLS (or takes none from us): the shared context
# would silently override them.
_OWN_TLS = ("ssl_context", "session", "verify", "cafile")
# ccxt's rate limiter wakes every ``delay`` seconds (1 ms by default) while a call waits for tokens:
# a wait of 250 ms is 250 wake-ups. Every 5 ms paces the same, at most 5 ms later per call, for a
# fifth of the wake-ups (client options may set their own).
PACING: dict[str, Any] = {"tokenBucket": {"delay": 0.005}}


def shared_tls(client_options: Mapping[str, Any]) -> dict[str, Any]:
    """``{"ssl_context": shared}`` unless ``client_options`` say how TLS is to be done."""
    options = client_options.get("options")
    if any(k in client_options for k in _OWN_TLS) or (isinstance(options, Mapping)
                                                       and "include_OS_certificates" in options):
        return {}
    return {"ssl_context": shared_ssl_context()}


class CcxtVenue:
    name = ""
    _position_updated = ""  # the ccxt position key with the venue's update time (see position_report)
    _rest: Any
    _stream: OrderStream

    def __init__(self) -> None:
        self._gate = ReadGate()

    def _untrusted(self, answer: Any, expect: type) -> str | None:
        """Why a raw answer cannot be trusted as the venue's own (None when it can)."""
        raise NotImplementedError

    def _cancel_params(self, stop: bool) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        await self._stream.close()
        await self._rest.close()

    async def _call(self, what: str, call: Callable[[], Awaitable[T]], *, write: bool) -> T:
        try:
            return await call()
        except ccxt.BaseError as error:
            raise translate(error, write=write, what=what) from error

    async def _read(self, what: str, call: Callable[[], Awaitable[T]], expect: type = dict, *,
                    scan: bool = False) -> T:
        """A read whose raw answer must be the venue's own (ccxt turns an empty 200 into "nothing"),
        else ``RetryLater``. ``scan``: an account-wide read, which lets lookups go first (``ReadGate``)."""
        result, _ = await self._read_answer(what, call, expect, scan=scan)
        return result

    async def _read_answer(self, what: str, call: Callable[[], Awaitable[T]], expect: type = dict, *,
                           scan: bool = False) -> tuple[T, Any]:
        """``_read``, with the venue's raw answer beside ccxt's result (a page's cursor, say)."""
        # last_json_response belongs to the one read in flight. The stream's own REST calls (Binance's
        # listen key) share the client, but ccxt sets the field as a request returns, and the unified
        # methods read through here await nothing after their request (ccxt 4.5.90): no other task
        # runs between that and the line below.
        async with self._gate.held(scan=scan):
            self._rest.last_json_response = None
            result = await self._call(what, call, write=False)
            answer = self._rest.last_json_response
        why = self._untrusted(answer, expect)
        if why is not None:
            raise RetryLater(f"{what}: {why} ({repr(answer)[:120]}); not trusting it")
        return result, answer

    # ------------------------------------------------------------------ writes

    async def _create(self, symbol: str, side: str, qty: Decimal, params: dict[str, Any], what: str) -> Ack:
        order = await self._call(
            what, lambda: self._rest.create_order(symbol, "market", side, float(qty), None, dict(params)), write=True
        )
        if not order or order.get("id") is None:
            # An empty or id-less 200: the order may exist; only a lookup by client id can tell.
            raise OutcomeUnknown(f"{what}: the venue answered without an order id ({str(order)[:120]})")
        client_id = order.get("clientOrderId") or params.get("clientOrderId")
        return Ack(VenueOrderId(str(order["id"])), ClientOrderId(client_id) if client_id else None,
                   order_report(order, "create"))

    async def cancel(self, symbol: str, venue_order_id: VenueOrderId, *, stop: bool) -> bool:
        try:
            await self._rest.cancel_order(venue_order_id, symbol, self._cancel_params(stop))
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

    @property
    def clock_tolerance_ms(self) -> int:
        return int(self._rest.options["recvWindow"])  # what ccxt signs with (Bybit 5 s, Binance 10 s)

    async def time_ms(self) -> int:
        stamp = await self._read("server time", self._rest.fetch_time)
        if not isinstance(stamp, int):
            raise RetryLater(f"server time: the answer carried no time ({stamp!r}); not trusting it")
        return stamp

    def next_push(self, timeout_s: float) -> Awaitable[None]:
        return self._stream.next_push(timeout_s)

    async def position(self, symbol: str) -> PositionReport | None:
        rows = await self._read("position", lambda: self._rest.fetch_positions([symbol]), list)
        reports = (position_report(row, self._position_updated) for row in rows)
        found = [p for p in reports if p is not None and p.symbol == symbol]
        return found[0] if found else None

    async def positions(self) -> list[PositionReport]:
        rows = await self._read("positions", lambda: self._rest.fetch_positions(), list, scan=True)
        return [p for p in (position_report(row, self._position_updated) for row in rows) if p is not None]

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
