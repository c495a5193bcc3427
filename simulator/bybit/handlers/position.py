"""``/v5/position/*`` and ``/v5/execution/list``: positions, leverage, mode, TP/SL, fills."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.bybit.errors import BybitError, invalid, missing, params_error
from simulator.bybit.handlers.paging import page, time_window
from simulator.bybit.render.trading import execution_item, position_item
from simulator.bybit.routing import Call, get, post
from simulator.engine.values import ClientOrderId, VenueOrderId

LINEAR_AND_INVERSE = frozenset({"linear", "inverse"})


def position_list(call: Call) -> Mapping[str, Any]:
    params = call.params
    category = params.category(allow=LINEAR_AND_INVERSE)
    symbol = params.text("symbol")
    settle = params.text("settleCoin")
    base = params.text("baseCoin")
    engine = call.engine
    if category == "inverse":
        # No inverse contracts are listed; clients (ccxt.pro's watch_positions) still ask.
        rows = []
    elif symbol is not None:
        rows = engine.queried_positions([engine.position(call.account_id, symbol)])
    elif settle is not None or base is not None:
        rows = [
            p for p in engine.queried_positions(engine.positions(call.account_id))
            if not p.is_flat and (settle in (None, "USDT")) and (base is None or p.symbol == f"{base}USDT")
        ]
    else:
        raise missing("symbol or settleCoin")
    chunk, cursor = page(rows, params, default=20, maximum=200)
    return {
        "category": category,
        "list": [
            position_item(p, engine.market(p.symbol), taker_fee_rate=engine.instrument(p.symbol).taker_fee_rate)
            for p in chunk
        ],
        "nextPageCursor": cursor,
    }


def set_leverage(call: Call) -> Mapping[str, Any]:
    params = call.params
    params.category()
    symbol = params.text("symbol", required=True)
    buy = params.decimal("buyLeverage", required=True)
    sell = params.decimal("sellLeverage", required=True)
    assert symbol is not None and buy is not None and sell is not None
    if buy != sell:
        raise params_error("buy leverage must be equal to sell leverage in one-way mode")
    call.engine.set_leverage(call.account_id, symbol, buy)
    return {}


def switch_mode(call: Call) -> Mapping[str, Any]:
    params = call.params
    params.category()
    mode = params.integer("mode", required=True)
    if params.text("symbol") is None and params.text("coin") is None:
        raise missing("symbol or coin")
    symbol = params.text("symbol")
    if symbol is not None:
        call.engine.instrument(symbol)
    if mode == 0:
        raise BybitError(110025, "Position mode is not modified")
    if mode == 3:
        raise params_error(
            "this simulator doesn't (yet) support hedge mode (mode=3); positions are one-way (mode=0)"
        )
    raise params_error("params error: position_mode invalid")


def trading_stop(call: Call) -> Mapping[str, Any]:
    params = call.params
    params.category()
    symbol = params.text("symbol", required=True)
    assert symbol is not None
    if params.integer("positionIdx") not in (None, 0):
        raise params_error("position idx not match position mode")
    mode = params.text("tpslMode") or "Full"
    if mode not in ("Full", "Partial"):
        raise invalid("tpslMode")
    for name in ("tpOrderType", "slOrderType"):
        if params.text(name) not in (None, "Market"):
            raise params_error(f"this simulator doesn't (yet) support {name}={params.text(name)}")
    for name in ("tpTriggerBy", "slTriggerBy"):
        if params.text(name) not in (None, "LastPrice"):
            raise params_error(f"this simulator doesn't (yet) support {name}={params.text(name)}")
    if params.decimal("trailingStop"):
        raise params_error("this simulator doesn't (yet) support trailingStop")
    stop_loss = params.decimal("stopLoss")
    take_profit = params.decimal("takeProfit")
    if stop_loss is None and take_profit is None:
        raise missing("takeProfit or stopLoss")
    engine = call.engine
    if mode == "Full":
        engine.set_position_tpsl(call.account_id, symbol, stop_loss=stop_loss, take_profit=take_profit)
    else:
        engine.place_partial_tpsl(
            call.account_id, symbol, stop_loss=stop_loss, take_profit=take_profit,
            sl_size=params.decimal("slSize"), tp_size=params.decimal("tpSize"),
        )
    return {}


EXEC_TYPES = frozenset({"Trade", "AdlTrade", "Funding", "BustTrade", "Delivery", "Settle", "BlockTrade", "MovePosition"})


def execution_list(call: Call) -> Mapping[str, Any]:
    params = call.params
    params.category()
    symbol = params.text("symbol")
    if symbol is not None:
        call.engine.instrument(symbol)
    order_id = params.text("orderId")
    link = params.text("orderLinkId")
    exec_type = params.text("execType")
    if exec_type is not None and exec_type not in EXEC_TYPES:
        raise invalid("execType")
    start, end = time_window(params, call.now_ms)
    rows = [
        e for e in call.engine.orders.executions_for(call.account_id)
        if (symbol is None or e.symbol == symbol)
        and (order_id is None or e.order_id == VenueOrderId(order_id))
        and (link is None or e.client_order_id == ClientOrderId(link))
        and (exec_type is None or e.exec_type == exec_type)
        and start <= e.exec_ms <= end
    ]
    chunk, cursor = page(rows, params, default=50, maximum=100)
    return {"category": "linear", "list": [execution_item(e) for e in chunk], "nextPageCursor": cursor}


ROUTES = (
    get("/v5/position/list", position_list, private=True),
    post("/v5/position/set-leverage", set_leverage),
    post("/v5/position/switch-mode", switch_mode),
    post("/v5/position/trading-stop", trading_stop),
    get("/v5/execution/list", execution_list, private=True),
)
