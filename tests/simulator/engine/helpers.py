from __future__ import annotations

from decimal import Decimal

from simulator.engine import OrderRequest, OrderType, Side, Symbol, TriggerDirection


def market(symbol: str, side: Side, qty: str, **kw: object) -> OrderRequest:
    return OrderRequest(symbol=Symbol(symbol), side=side, order_type=OrderType.MARKET, qty=Decimal(qty), **kw)  # type: ignore[arg-type]


def limit(symbol: str, side: Side, qty: str, price: str, **kw: object) -> OrderRequest:
    return OrderRequest(
        symbol=Symbol(symbol), side=side, order_type=OrderType.LIMIT, qty=Decimal(qty), price=Decimal(price), **kw  # type: ignore[arg-type]
    )


def stop_market(symbol: str, side: Side, qty: str, trigger: str, direction: TriggerDirection, **kw: object) -> OrderRequest:
    return OrderRequest(
        symbol=Symbol(symbol), side=side, order_type=OrderType.MARKET, qty=Decimal(qty),
        trigger_price=Decimal(trigger), trigger_direction=direction, **kw,  # type: ignore[arg-type]
    )
