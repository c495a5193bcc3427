"""Klines (``fetch_ohlcv``) and mark and index price klines, from each instrument's own history.

Prices move only when moved, and the engine's mark and index prices are its last price, so the
three kinds of candle share their prices; only trade klines carry volume.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.binance.errors import BinanceError, unsupported
from simulator.binance.handlers.market import asked_instruments
from simulator.binance.render import EIGHT_PLACES, fixed
from simulator.binance.routing import PUBLIC, Call, route
from simulator.engine.instruments import Instrument
from simulator.engine.tape import Candle

# Binance's kline intervals, in minutes (a week opens on Monday 00:00 UTC).
KLINE_MINUTES = {"1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "2h": 120, "4h": 240, "6h": 360,
                 "8h": 480, "12h": 720, "1d": 1440, "3d": 4320, "1w": 10080}


def _klines_weight(params: Mapping[str, str]) -> int:
    text = params.get("limit") or "500"
    limit = int(text) if text.isascii() and text.isdigit() else 500
    return 1 if limit < 100 else 2 if limit < 500 else 5 if limit <= 1000 else 10


def _candles(call: Call, *, symbol_param: str = "symbol") -> tuple[Instrument, int, list[Candle]]:
    """With ``startTime``, the first ``limit`` candles opening from it; else the last ``limit`` up to
    ``endTime`` or now, the current one included."""
    params = call.params
    symbol = params.need(symbol_param)  # mandatory, as on Binance, before the interval is read
    interval = params.need("interval")
    if interval == "1M":
        raise unsupported("interval", "interval=1M (calendar months)")
    minutes = KLINE_MINUTES.get(interval)
    if minutes is None:
        raise BinanceError(-1120, "Invalid interval.")
    limit = params.limit(default=500, maximum=1500)
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None and end is not None and start > end:
        raise BinanceError(-1023, "Start time is greater than end time.")
    found = [i for i in asked_instruments(call) if i.symbol == symbol] if symbol_param == "pair" else asked_instruments(call)
    if not found:
        raise BinanceError(-1121, "Invalid symbol.")
    [inst] = found
    step = minutes * 60_000
    candles = call.engine.tape(inst.symbol).query(step, now_ms=call.now_ms, start_ms=start, end_ms=end, limit=limit,
                                              weekly=interval == "1w")
    return inst, step, candles


def klines(call: Call) -> list[list[Any]]:
    """Oldest first; volume is what traded on this venue."""
    inst, step, candles = _candles(call)
    tick, qty = inst.tick_size, inst.qty_step
    return [[c.open_ms, fixed(c.open, tick), fixed(c.high, tick), fixed(c.low, tick), fixed(c.close, tick),
             fixed(c.volume, qty), c.open_ms + step - 1, fixed(c.turnover, EIGHT_PLACES), c.trades,
             fixed(c.taker_buy_volume, qty), fixed(c.taker_buy_turnover, EIGHT_PLACES), "0"] for c in candles]


def _price_klines(call: Call, symbol_param: str) -> list[list[Any]]:
    inst, step, candles = _candles(call, symbol_param=symbol_param)
    # Binance's mark and index candles: prices with eight decimals, the volume fields "ignore".
    return [[c.open_ms, fixed(c.open, EIGHT_PLACES), fixed(c.high, EIGHT_PLACES), fixed(c.low, EIGHT_PLACES),
             fixed(c.close, EIGHT_PLACES), "0", c.open_ms + step - 1, "0", 0, "0", "0", "0"] for c in candles]


def mark_price_klines(call: Call) -> list[list[Any]]:
    """``fetch_mark_ohlcv``: the mark price's candles (the engine's mark is its last price)."""
    return _price_klines(call, "symbol")


def index_price_klines(call: Call) -> list[list[Any]]:
    """``fetch_index_ohlcv``: by ``pair``, as Binance asks (the engine's index is its last price)."""
    return _price_klines(call, "pair")


ROUTES = (
    route("GET", "/fapi/v1/klines", klines, PUBLIC, weigh=_klines_weight),
    route("GET", "/fapi/v1/markPriceKlines", mark_price_klines, PUBLIC, weigh=_klines_weight),
    route("GET", "/fapi/v1/indexPriceKlines", index_price_klines, PUBLIC, weigh=_klines_weight),
)
