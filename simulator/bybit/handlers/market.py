"""``/v5/market/*``: server time, instruments and tickers (public, unsigned)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.bybit.errors import BybitError
from simulator.bybit.params import KNOWN_CATEGORIES
from simulator.bybit.render.market import instrument_item, ticker_item
from simulator.bybit.routing import Call, get


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


def tickers(call: Call) -> Mapping[str, Any]:
    category = call.params.category(allow=KNOWN_CATEGORIES)
    symbol = call.params.text("symbol")
    if category != "linear":
        if symbol is not None:
            raise BybitError(10001, "params error: symbol invalid")
        return {"category": category, "list": []}
    engine = call.engine
    if symbol is not None:
        known = {i.symbol for i in engine.instruments()}
        if symbol not in known:
            raise BybitError(10001, "params error: symbol invalid")
        chosen = [engine.instrument(symbol)]
    else:
        chosen = engine.instruments()
    return {
        "category": category,
        "list": [ticker_item(i, engine.market(i.symbol), now_ms=call.now_ms) for i in chosen],
    }


ROUTES = (
    get("/v5/market/time", server_time),
    get("/v5/market/instruments-info", instruments_info),
    get("/v5/market/tickers", tickers),
)
