"""Public market data: exchange info, time, ping, prices."""

from __future__ import annotations

from typing import Any

from simulator.binance.errors import BAD_SYMBOL
from simulator.binance.render import symbol_info
from simulator.binance.routing import PUBLIC, Call, route
from simulator.engine.instruments import Instrument


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


def _instruments(call: Call) -> list[Instrument]:
    symbol = call.params.text("symbol")
    if symbol is None:
        return call.engine.instruments()
    found = [i for i in call.engine.instruments() if i.symbol == symbol]
    if not found:
        raise BAD_SYMBOL
    return found


def ticker_price(call: Call) -> Any:
    rows = [{"symbol": i.symbol, "price": str(call.engine.market(i.symbol).last_price), "time": call.now_ms}
            for i in _instruments(call)]
    return rows[0] if "symbol" in call.params else rows


def premium_index(call: Call) -> Any:
    rows = []
    for inst in _instruments(call):
        m = call.engine.market(inst.symbol)
        rows.append({"symbol": inst.symbol, "markPrice": str(m.mark_price), "indexPrice": str(m.index_price),
                     "estimatedSettlePrice": str(m.index_price), "lastFundingRate": str(m.funding_rate),
                     "interestRate": "0.00010000", "nextFundingTime": (call.now_ms // 28_800_000 + 1) * 28_800_000,
                     "time": call.now_ms})
    return rows[0] if "symbol" in call.params else rows


ROUTES = (
    route("GET", "/fapi/v1/exchangeInfo", exchange_info, PUBLIC),
    route("GET", "/fapi/v1/time", server_time, PUBLIC),
    route("GET", "/fapi/v1/ping", ping, PUBLIC),
    route("GET", "/fapi/v1/ticker/price", ticker_price, PUBLIC, without_symbol=2),
    route("GET", "/fapi/v2/ticker/price", ticker_price, PUBLIC, without_symbol=2),
    route("GET", "/fapi/v1/premiumIndex", premium_index, PUBLIC, without_symbol=10),
)
