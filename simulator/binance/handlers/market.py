"""Public market data: exchange info, time, ping, prices, 24 h tickers, the book, funding rates."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from simulator.binance.errors import BAD_SYMBOL, BinanceError
from simulator.binance.render import EIGHT_PLACES, fixed, symbol_info
from simulator.binance.routing import PUBLIC, Call, route
from simulator.engine.instruments import Instrument
from simulator.engine.venue import DAY_MS


def exchange_info(call: Call) -> dict[str, Any]:
    return {
        "timezone": "UTC", "serverTime": call.now_ms, "futuresType": "U_MARGINED",
        "rateLimits": [  # the limits this venue enforces (simulator/binance/limits.py)
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": call.limits.weight_per_minute},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": call.limits.orders_per_minute},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": call.limits.orders_per_10s},
        ],
        "exchangeFilters": [],
        "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
        "symbols": [symbol_info(i) for i in call.engine.instruments()],
    }


def server_time(call: Call) -> dict[str, Any]:
    return {"serverTime": call.now_ms}


def ping(call: Call) -> dict[str, Any]:
    return {}


def asked_instruments(call: Call) -> list[Instrument]:
    symbol = call.params.text("symbol")
    if symbol is None:
        return call.engine.instruments()
    found = [i for i in call.engine.instruments() if i.symbol == symbol]
    if not found:
        raise BAD_SYMBOL
    return found


def ticker_price(call: Call) -> Any:
    # Prices as Binance writes them: on the symbol's tick ("64000.0" however the price was set).
    rows = [{"symbol": i.symbol, "price": fixed(call.engine.market(i.symbol).last_price, i.tick_size), "time": call.now_ms}
            for i in asked_instruments(call)]
    return rows[0] if "symbol" in call.params else rows


def premium_index(call: Call) -> Any:
    rows = []
    for inst in asked_instruments(call):
        m = call.engine.market(inst.symbol)
        index = fixed(m.index_price, EIGHT_PLACES)
        rows.append({"symbol": inst.symbol, "markPrice": fixed(m.mark_price, EIGHT_PLACES),
                     "indexPrice": index, "estimatedSettlePrice": index,
                     "lastFundingRate": fixed(m.funding_rate, EIGHT_PLACES),
                     "interestRate": "0.00010000", "nextFundingTime": (call.now_ms // 28_800_000 + 1) * 28_800_000,
                     "time": call.now_ms})
    return rows[0] if "symbol" in call.params else rows


def ticker_24hr(call: Call) -> Any:
    """The rolling 24 hours up to now (``fetch_ticker``), from the instrument's own history."""
    rows = []
    for inst in asked_instruments(call):
        sym, tick, step = inst.symbol, inst.tick_size, inst.qty_step
        last = call.engine.market(sym).last_price
        day = call.engine.day(sym)
        tape = call.engine.tape(sym)
        traded = tape.trade_span(call.now_ms - DAY_MS, call.now_ms)
        last_qty = tape.last_trade_qty()
        rows.append({
            "symbol": sym, "priceChange": fixed(last - day.open, tick),
            "priceChangePercent": f"{(last - day.open) / day.open * 100:.3f}",
            "weightedAvgPrice": fixed(day.turnover / day.volume if day.volume else Decimal(0), tick),
            "lastPrice": fixed(last, tick), "lastQty": fixed(last_qty or Decimal(0), step),
            "openPrice": fixed(day.open, tick), "highPrice": fixed(day.high, tick), "lowPrice": fixed(day.low, tick),
            "volume": fixed(day.volume, step), "quoteVolume": fixed(day.turnover, EIGHT_PLACES),
            "openTime": call.now_ms - DAY_MS, "closeTime": call.now_ms,
            "firstId": call.ids.trade(tape.exec_id_at(traded[0]), sym) if traded else -1,
            "lastId": call.ids.trade(tape.exec_id_at(traded[-1]), sym) if traded else -1, "count": len(traded),
        })
    return rows[0] if "symbol" in call.params else rows


def book_ticker(call: Call) -> Any:
    """The best bid and ask (``simulator/engine/book.py``: the one-tick spread with nominal depth,
    and any resting limit order at those prices)."""
    rows = []
    for inst in asked_instruments(call):
        top = call.engine.book(inst.symbol, 1)
        (bid, bid_qty), (ask, ask_qty) = top.best_bid, top.best_ask
        rows.append({"symbol": inst.symbol, "bidPrice": fixed(bid, inst.tick_size),
                     "bidQty": fixed(bid_qty, inst.qty_step), "askPrice": fixed(ask, inst.tick_size),
                     "askQty": fixed(ask_qty, inst.qty_step), "time": call.now_ms,
                     "lastUpdateId": call.engine.book_seq(inst.symbol)})
    return rows[0] if "symbol" in call.params else rows


DEPTH_WEIGHTS = {5: 2, 10: 2, 20: 2, 50: 2, 100: 5, 500: 10, 1000: 20}


def _depth_weight(params: Mapping[str, str]) -> int:
    text = params.get("limit") or "500"
    return DEPTH_WEIGHTS.get(int(text) if text.isascii() and text.isdigit() else 500, 10)


def depth(call: Call) -> dict[str, Any]:
    """The order book (``fetch_order_book``); what it holds: ``simulator/engine/book.py``."""
    call.params.need("symbol")
    given = call.params.integer("limit")
    limit = 500 if given is None else given
    if limit not in DEPTH_WEIGHTS:
        raise BinanceError(-1130, "Data sent for parameter 'limit' is not valid.")
    [inst] = asked_instruments(call)
    book = call.engine.book(inst.symbol, limit)
    tick, step = inst.tick_size, inst.qty_step
    return {"lastUpdateId": call.engine.book_seq(inst.symbol), "E": call.now_ms, "T": call.now_ms,
            "bids": [[fixed(p, tick), fixed(q, step)] for p, q in book.bids],
            "asks": [[fixed(p, tick), fixed(q, step)] for p, q in book.asks]}


def funding_rate(call: Call) -> list[dict[str, Any]]:
    """``fetch_funding_rate_history``: every funding instant settled, oldest first; without a window
    the latest ``limit``."""
    params = call.params
    limit = params.limit(default=100, maximum=1000)
    start, end = params.integer("startTime"), params.integer("endTime")
    rows = sorted((s for inst in asked_instruments(call) for s in call.engine.funding.history(inst.symbol)
                   if (start is None or s.at_ms >= start) and (end is None or s.at_ms <= end)),
                  key=lambda s: (s.at_ms, s.symbol))
    rows = rows[:limit] if start is not None else rows[-limit:]
    return [{"symbol": s.symbol, "fundingRate": fixed(s.rate, EIGHT_PLACES), "fundingTime": s.at_ms,
             "markPrice": fixed(s.mark_price, EIGHT_PLACES)} for s in rows]


ROUTES = (
    route("GET", "/fapi/v1/exchangeInfo", exchange_info, PUBLIC),
    route("GET", "/fapi/v1/time", server_time, PUBLIC),
    route("GET", "/fapi/v1/ping", ping, PUBLIC),
    route("GET", "/fapi/v1/ticker/price", ticker_price, PUBLIC, without_symbol=2),
    route("GET", "/fapi/v2/ticker/price", ticker_price, PUBLIC, without_symbol=2),
    route("GET", "/fapi/v1/ticker/24hr", ticker_24hr, PUBLIC, without_symbol=40),
    route("GET", "/fapi/v1/ticker/bookTicker", book_ticker, PUBLIC, weight=2, without_symbol=5),
    route("GET", "/fapi/v1/depth", depth, PUBLIC, weigh=_depth_weight),
    route("GET", "/fapi/v1/fundingRate", funding_rate, PUBLIC),
    route("GET", "/fapi/v1/premiumIndex", premium_index, PUBLIC, without_symbol=10),
)
