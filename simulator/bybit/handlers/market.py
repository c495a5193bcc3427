"""``/v5/market/*``: server time, instruments, tickers, order book and klines (public, unsigned)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from simulator.bybit.errors import BybitError, invalid
from simulator.bybit.params import KNOWN_CATEGORIES
from simulator.bybit.render.market import instrument_item, ticker_now
from simulator.bybit.routing import Call, get
from simulator.bybit.wire import plain
from simulator.engine.instruments import Instrument
from simulator.engine.margin import MAINTENANCE_RATE, RISK_LIMIT_VALUE
from simulator.engine.tape import Candle


def server_time(call: Call) -> Mapping[str, Any]:
    ns = call.engine.clock.time_ns()
    return {"timeSecond": str(ns // 1_000_000_000), "timeNano": str(ns)}


def instruments_info(call: Call) -> Mapping[str, Any]:
    category = call.params.category(allow=KNOWN_CATEGORIES)
    status = call.params.text("status")
    symbol = call.params.text("symbol")
    call.params.limit(default=500, maximum=1000)
    listed = call.engine.instruments() if category == "linear" else []
    if category == "linear" and symbol is not None and symbol not in {i.symbol for i in listed}:
        raise BybitError(10001, "params error: symbol invalid")
    items = [
        instrument_item(inst, symbol_id=number)
        for number, inst in enumerate(listed, start=1)
        if (symbol is None or inst.symbol == symbol) and (status is None or inst.status == status)
    ]
    if category == "spot":
        return {"category": category, "list": items}
    return {"category": category, "list": items, "nextPageCursor": ""}


def _listed(call: Call, symbol: str) -> Instrument:
    """The linear instrument ``symbol`` names, or Bybit's answer for one it does not list."""
    for inst in call.engine.instruments():
        if inst.symbol == symbol:
            return inst
    raise BybitError(10001, "params error: symbol invalid")


def tickers(call: Call) -> Mapping[str, Any]:
    category = call.params.category(allow=KNOWN_CATEGORIES)
    symbol = call.params.text("symbol")
    if category != "linear":
        if symbol is not None:
            raise BybitError(10001, "params error: symbol invalid")
        return {"category": category, "list": []}
    engine = call.engine
    chosen = engine.instruments() if symbol is None else [_listed(call, symbol)]
    return {
        "category": category,
        "list": [ticker_now(engine, i) for i in chosen],
    }


# Bybit's kline intervals, in minutes (a week opens on Monday 00:00 UTC).
KLINE_MINUTES = {"1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240, "360": 360,
                 "720": 720, "D": 1440, "W": 10080}


def _candles(call: Call) -> tuple[Instrument, list[Candle]]:
    """With ``start``, the first ``limit`` candles opening from the one it falls in (up to ``end``);
    without, the last ``limit`` up to ``end`` or now, the current one included."""
    params = call.params
    params.category(default="linear")  # Bybit: "linear by default"
    symbol = params.text("symbol", required=True)
    interval = params.text("interval", required=True)
    assert symbol is not None and interval is not None
    if interval == "M":
        raise BybitError(10001, "this simulator doesn't (yet) support interval=M (calendar months)")
    minutes = KLINE_MINUTES.get(interval)
    if minutes is None:
        raise invalid("interval")
    limit = params.limit(default=200, maximum=1000)
    start, end = params.integer("start"), params.integer("end")
    inst = _listed(call, symbol)
    # Bybit's first candle is the one ``start`` falls in (ccxt's note on its issue 26736).
    return inst, call.engine.tape(symbol).query(minutes * 60_000, now_ms=call.now_ms, start_ms=start, end_ms=end,
                                                limit=limit, weekly=interval == "W", from_containing=True)


def kline(call: Call) -> Mapping[str, Any]:
    """Candles from the instrument's own price and trade history (``fetch_ohlcv``), newest first.
    Volume is what traded on this venue."""
    inst, candles = _candles(call)
    price = inst.format_price
    return {"category": "linear", "symbol": inst.symbol, "list": [
        [str(c.open_ms), price(c.open), price(c.high), price(c.low), price(c.close), plain(c.volume),
         plain(c.turnover)] for c in reversed(candles)]}


def price_kline(call: Call) -> Mapping[str, Any]:
    """Mark and index price candles (``fetch_mark_ohlcv``, ``fetch_index_ohlcv``): the engine's mark
    and index prices are its last price, so the trade candles' prices, without volume."""
    inst, candles = _candles(call)
    price = inst.format_price
    return {"category": "linear", "symbol": inst.symbol, "list": [
        [str(c.open_ms), price(c.open), price(c.high), price(c.low), price(c.close)] for c in reversed(candles)]}


def recent_trade(call: Call) -> Mapping[str, Any]:
    """The market's latest fills (``fetch_trades``), newest first; the side is the taker's."""
    params = call.params
    category = params.category()
    symbol = params.text("symbol", required=True)
    assert symbol is not None
    limit = params.limit(default=500, maximum=1000)
    inst = _listed(call, symbol)
    tape = call.engine.tape(symbol)
    rows = tape.trades(tape.trade_span()[-limit:])
    return {"category": category, "list": [
        {"execId": t.exec_id, "symbol": inst.symbol, "price": inst.format_price(t.price), "size": plain(t.qty),
         "side": "Buy" if t.taker_buy else "Sell", "time": str(t.ms), "isBlockTrade": False, "isRPITrade": False}
        for t in reversed(rows)]}


def orderbook(call: Call) -> Mapping[str, Any]:
    """The book as the engine shows it (``simulator/engine/book.py``: the one-tick spread around the
    last price with nominal depth, and every resting limit order at its price)."""
    params = call.params
    params.category()
    symbol = params.text("symbol", required=True)
    assert symbol is not None
    limit = params.limit(default=25, maximum=500)  # linear: [1, 500], 25 by default
    inst = _listed(call, symbol)
    book = call.engine.book(symbol, limit)
    price, qty = inst.format_price, inst.format_qty
    seq = call.engine.book_seq(symbol)
    return {"s": inst.symbol, "b": [[price(p), qty(q)] for p, q in book.bids],
            "a": [[price(p), qty(q)] for p, q in book.asks],
            "ts": call.now_ms, "u": seq, "seq": seq, "cts": call.now_ms}


def funding_history(call: Call) -> Mapping[str, Any]:
    """``fetch_funding_rate_history``: the symbol's settled funding instants, newest first; up to
    ``endTime`` (or now), from ``startTime`` if given with it."""
    params = call.params
    category = params.category()
    symbol = params.text("symbol", required=True)
    assert symbol is not None
    limit = params.limit(default=200, maximum=200)
    start, end = params.integer("startTime"), params.integer("endTime")
    if start is not None and end is None:
        raise BybitError(10001, "params error: endTime is required when startTime is passed")
    inst = _listed(call, symbol)
    rows = [s for s in call.engine.funding.history(inst.symbol)
            if (start is None or s.at_ms >= start) and (end is None or s.at_ms <= end)]
    return {"category": category, "list": [
        {"symbol": s.symbol, "fundingRate": plain(s.rate), "fundingRateTimestamp": str(s.at_ms)}
        for s in reversed(rows[-limit:])]}


RISK_LIMIT_PAGE = 15  # symbols a linear page holds (Bybit)


def risk_limit(call: Call) -> Mapping[str, Any]:
    """Each symbol's risk tiers (``fetch_leverage_tiers``): one, the engine's margin model (a flat
    maintenance rate, the initial margin of the maximum leverage, no cap it enforces)."""
    params = call.params
    category = params.category()
    symbol = params.text("symbol")
    listed = call.engine.instruments() if symbol is None else [_listed(call, symbol)]
    cursor = params.text("cursor")
    if cursor is not None and not (cursor.isascii() and cursor.isdigit()):
        raise invalid("cursor")
    start = int(cursor or 0)
    chunk = listed[start:start + RISK_LIMIT_PAGE]
    items = [{"id": 1, "symbol": inst.symbol, "riskLimitValue": plain(RISK_LIMIT_VALUE),
              "maintenanceMargin": plain(MAINTENANCE_RATE), "initialMargin": plain((1 / inst.max_leverage).quantize(Decimal("0.000001"))),
              "isLowestRisk": 1, "maxLeverage": f"{inst.max_leverage:.2f}", "mmDeduction": ""} for inst in chunk]
    # Unlike the order and position lists, the last page carries no cursor: ccxt's sweep of all tiers ends
    # "on the exhausted cursor" against Bybit (ccxt PR 30127's review), and an empty page past it breaks
    # ccxt's parsing of the page (IndexError, retried, then raised).
    following = start + RISK_LIMIT_PAGE
    return {"category": category, "list": items, "nextPageCursor": str(following) if following < len(listed) else ""}


ROUTES = (
    get("/v5/market/time", server_time),
    get("/v5/market/kline", kline),
    get("/v5/market/mark-price-kline", price_kline),
    get("/v5/market/index-price-kline", price_kline),
    get("/v5/market/recent-trade", recent_trade),
    get("/v5/market/instruments-info", instruments_info),
    get("/v5/market/tickers", tickers),
    get("/v5/market/orderbook", orderbook),
    get("/v5/market/risk-limit", risk_limit),
    get("/v5/market/funding/history", funding_history),
)
