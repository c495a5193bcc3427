"""The market's public trades (``fetch_trades``): every fill on the venue, as the tape holds them.

Each fill is its own aggregate trade (the venue has no other traders to aggregate with). Trade ids
and aggregate ids are two sequences of each symbol, issued as the fills happen (see ``BinanceVenue``),
so a fill's aggregate id differs from its trade id, as on Binance.
"""

from __future__ import annotations

import bisect
from typing import Any

from simulator.binance.errors import BinanceError
from simulator.binance.handlers.market import asked_instruments
from simulator.binance.render import fixed
from simulator.binance.routing import PUBLIC, Call, route
from simulator.engine.instruments import Instrument

HOUR_MS = 3_600_000


def _one(call: Call) -> Instrument:
    call.params.need("symbol")
    [inst] = asked_instruments(call)
    return inst


def recent_trades(call: Call) -> list[dict[str, Any]]:
    """The latest ``limit``, oldest first."""
    inst = _one(call)
    limit = call.params.limit(default=500, maximum=1000)
    tape = call.engine.tape(inst.symbol)
    return [{"id": call.ids.trade(t.exec_id, inst.symbol), "price": fixed(t.price, inst.tick_size),
             "qty": fixed(t.qty, inst.qty_step), "quoteQty": f"{t.qty * t.price:.8f}", "time": t.ms,
             "isBuyerMaker": not t.taker_buy, "isRPITrade": False} for t in tape.trades(tape.trade_span()[-limit:])]


def agg_trades(call: Call) -> list[dict[str, Any]]:
    """From ``fromId``, or within ``startTime``..``endTime`` (an hour apart at most), else the latest ``limit``."""
    inst = _one(call)
    limit = call.params.limit(default=500, maximum=1000)
    params = call.params
    from_id, start, end = params.integer("fromId"), params.integer("startTime"), params.integer("endTime")
    if start is not None and end is not None and end - start > HOUR_MS:
        raise BinanceError(-1127, "More than 1 hours between startTime and endTime.")
    tape, symbol = call.engine.tape(inst.symbol), inst.symbol
    span = tape.trade_span(start, end)
    if from_id is not None:  # aggregate ids grow with the tape: find the first at or past fromId
        first = bisect.bisect_left(span, from_id, key=lambda i: call.ids.agg(tape.exec_id_at(i), symbol))
        chosen = span[first:first + limit]
    elif start is not None:
        chosen = span[:limit]
    else:
        chosen = span[-limit:]
    out = []
    for t in tape.trades(chosen):
        number = call.ids.trade(t.exec_id, symbol)
        out.append({"a": call.ids.agg(t.exec_id, symbol), "p": fixed(t.price, inst.tick_size),
                    "q": fixed(t.qty, inst.qty_step), "f": number, "l": number, "T": t.ms, "m": not t.taker_buy})
    return out


ROUTES = (
    route("GET", "/fapi/v1/trades", recent_trades, PUBLIC, weight=5),
    route("GET", "/fapi/v1/aggTrades", agg_trades, PUBLIC, weight=20),
)
