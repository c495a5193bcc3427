"""The market's public trades (``fetch_trades``): every fill on the venue, as the tape holds them.

Each fill is its own aggregate trade (the venue has no other traders to aggregate with); trade ids
are the ones user trades carry, issued in fill order (see ``BinanceVenue``).
"""

from __future__ import annotations

from typing import Any

from simulator.binance.errors import BinanceError
from simulator.binance.handlers.market import asked_instruments
from simulator.binance.render import fixed
from simulator.binance.routing import PUBLIC, Call, route
from simulator.engine.instruments import Instrument
from simulator.engine.tape import TapeTrade

HOUR_MS = 3_600_000


def _limit(call: Call) -> int:
    given = call.params.integer("limit")
    limit = 500 if given is None else given
    if not 1 <= limit <= 1000:
        raise BinanceError(-1130, "Data sent for parameter 'limit' is not valid.")
    return limit


def _one(call: Call) -> Instrument:
    call.params.need("symbol")
    [inst] = asked_instruments(call)
    return inst


def recent_trades(call: Call) -> list[dict[str, Any]]:
    """The latest ``limit``, oldest first."""
    inst = _one(call)
    limit = _limit(call)
    rows = call.engine.tape(inst.symbol).trades()[-limit:]
    return [{"id": call.ids.trade(t.exec_id), "price": fixed(t.price, inst.tick_size), "qty": fixed(t.qty, inst.qty_step),
             "quoteQty": f"{t.qty * t.price:.8f}", "time": t.ms, "isBuyerMaker": not t.taker_buy} for t in rows]


def agg_trades(call: Call) -> list[dict[str, Any]]:
    """From ``fromId``, or within ``startTime``..``endTime`` (under an hour apart), else the latest ``limit``."""
    inst = _one(call)
    limit = _limit(call)
    params = call.params
    from_id, start, end = params.integer("fromId"), params.integer("startTime"), params.integer("endTime")
    if start is not None and end is not None and end - start > HOUR_MS:
        raise BinanceError(-1127, "More than 1 hours between startTime and endTime.")
    rows: list[TapeTrade] = call.engine.tape(inst.symbol).trades(start, end)
    if from_id is not None:
        rows = [t for t in rows if call.ids.trade(t.exec_id) >= from_id][:limit]
    elif start is not None:
        rows = rows[:limit]
    else:
        rows = rows[-limit:]
    out = []
    for t in rows:
        number = call.ids.trade(t.exec_id)
        out.append({"a": number, "p": fixed(t.price, inst.tick_size), "q": fixed(t.qty, inst.qty_step), "f": number,
                    "l": number, "T": t.ms, "m": not t.taker_buy})
    return out


ROUTES = (
    route("GET", "/fapi/v1/trades", recent_trades, PUBLIC, weight=5),
    route("GET", "/fapi/v1/aggTrades", agg_trades, PUBLIC, weight=20),
)
