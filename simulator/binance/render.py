"""Engine values rendered as Binance USD-M JSON (field names, string numbers and order as Binance sends)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.binance.ids import NumericIds
from simulator.engine.accounts import WalletView
from simulator.engine.fills import Execution
from simulator.engine.instruments import Instrument
from simulator.engine.market import MarketState
from simulator.engine.orders import Order
from simulator.engine.positions import Position
from simulator.engine.values import OrderStatus, OrderType, Side, TimeInForce

PERPETUAL_DELIVERY_MS = 4_133_404_800_000
ORDER_TYPES = ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"]
ORDER_STATUS = {
    OrderStatus.NEW: "NEW", OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED", OrderStatus.FILLED: "FILLED",
    OrderStatus.CANCELLED: "CANCELED", OrderStatus.REJECTED: "REJECTED", OrderStatus.DEACTIVATED: "EXPIRED",
    OrderStatus.PARTIALLY_FILLED_CANCELLED: "EXPIRED", OrderStatus.UNTRIGGERED: "NEW", OrderStatus.TRIGGERED: "NEW",
}
_ALGO_STATUS = {
    OrderStatus.UNTRIGGERED: "NEW", OrderStatus.TRIGGERED: "TRIGGERED", OrderStatus.NEW: "TRIGGERED",
    OrderStatus.PARTIALLY_FILLED: "TRIGGERED", OrderStatus.FILLED: "FINISHED", OrderStatus.CANCELLED: "CANCELED",
    OrderStatus.DEACTIVATED: "EXPIRED", OrderStatus.REJECTED: "REJECTED",
    OrderStatus.PARTIALLY_FILLED_CANCELLED: "FINISHED",
}
_TIF = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK", TimeInForce.POST_ONLY: "GTX"}


def side(value: Side) -> str:
    return "BUY" if value is Side.BUY else "SELL"


def _places(step: Decimal) -> int:
    return max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]


EIGHT_PLACES = Decimal("0.00000001")  # Binance writes mark and index prices and quote volumes with eight decimals


def fixed(value: Decimal, step: Decimal) -> str:
    """``value`` with as many decimals as ``step`` has (Binance's string numbers)."""
    return f"{value:.{_places(step)}f}"


def symbol_info(inst: Instrument) -> dict[str, Any]:
    tick, step = inst.tick_size, inst.qty_step
    return {
        "symbol": inst.symbol, "pair": inst.symbol, "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS, "onboardDate": inst.launch_time_ms, "status": "TRADING",
        "maintMarginPercent": "2.5000", "requiredMarginPercent": "5.0000", "baseAsset": inst.base_coin,
        "quoteAsset": inst.quote_coin, "marginAsset": inst.settle_coin, "pricePrecision": _places(tick),
        "quantityPrecision": _places(step), "baseAssetPrecision": 8, "quotePrecision": 8, "underlyingType": "COIN",
        "underlyingSubType": [], "settlePlan": 0, "triggerProtect": "0.0500", "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fixed(inst.min_price, tick),
             "maxPrice": fixed(inst.max_price, tick), "tickSize": str(tick)},
            {"filterType": "LOT_SIZE", "minQty": str(inst.min_qty), "maxQty": str(inst.max_qty),
             "stepSize": str(step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": str(inst.min_qty), "maxQty": str(inst.max_market_qty),
             "stepSize": str(step)},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": str(inst.min_notional)},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ORDER_TYPES,
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
    }


def order(o: Order, inst: Instrument, ids: NumericIds) -> dict[str, Any]:
    avg = o.cum_exec_value / o.filled_qty if o.filled_qty else Decimal(0)
    return {
        "orderId": ids.order(o.order_id), "symbol": o.symbol, "status": ORDER_STATUS[o.status],
        "clientOrderId": o.client_order_id or "", "price": fixed(o.price if o.order_type is OrderType.LIMIT else
                                                                  Decimal(0), inst.tick_size),
        "avgPrice": fixed(avg, inst.tick_size), "origQty": fixed(o.qty, inst.qty_step),
        "executedQty": fixed(o.filled_qty, inst.qty_step), "cumQty": fixed(o.filled_qty, inst.qty_step),
        "cumQuote": fixed(o.cum_exec_value, inst.tick_size * inst.qty_step),
        "timeInForce": _TIF.get(o.time_in_force, "GTC"), "type": _type(o), "reduceOnly": o.reduce_only,
        "closePosition": False, "side": side(o.side), "positionSide": "BOTH", "stopPrice": "0",
        "workingType": "CONTRACT_PRICE", "priceProtect": False, "origType": _type(o), "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "time": o.created_ms,
        "updateTime": o.updated_ms,
    }


def _type(o: Order) -> str:
    return "MARKET" if o.order_type is OrderType.MARKET else "LIMIT"


def algo_order(o: Order, inst: Instrument, ids: NumericIds, *, algo_type: str) -> dict[str, Any]:
    return {
        "algoId": ids.algo(o.order_id), "clientAlgoId": o.client_order_id or "", "algoType": "CONDITIONAL",
        "orderType": algo_type, "symbol": o.symbol, "side": side(o.side), "positionSide": "BOTH",
        "timeInForce": _TIF.get(o.time_in_force, "GTC"), "quantity": fixed(o.qty, inst.qty_step),
        "algoStatus": _ALGO_STATUS[o.status],
        "triggerPrice": fixed(o.trigger_price or Decimal(0), inst.tick_size),
        "price": fixed(o.price if o.order_type is OrderType.LIMIT else Decimal(0), inst.tick_size),
        "icebergQuantity": None, "selfTradePreventionMode": "EXPIRE_MAKER", "workingType": "CONTRACT_PRICE",
        "priceMatch": "NONE", "closePosition": False, "priceProtect": False, "reduceOnly": o.reduce_only,
        "activatePrice": "", "callbackRate": "", "createTime": o.created_ms, "updateTime": o.updated_ms,
        "triggerTime": 0 if o.status is OrderStatus.UNTRIGGERED else o.updated_ms, "goodTillDate": 0,
    }


def position_risk(p: Position, market: MarketState, inst: Instrument, leverage: Decimal) -> dict[str, Any]:
    notional = p.size * market.mark_price
    initial = abs(notional) / leverage
    return {
        "symbol": p.symbol, "positionSide": "BOTH", "positionAmt": fixed(p.size, inst.qty_step),
        "entryPrice": str(p.entry_price), "breakEvenPrice": str(p.entry_price),
        "markPrice": fixed(market.mark_price, EIGHT_PLACES), "unRealizedProfit": str(p.unrealised_pnl(market.mark_price)),
        "liquidationPrice": "0", "isolatedMargin": "0", "notional": str(notional), "marginAsset": "USDT",
        "isolatedWallet": "0", "initialMargin": str(initial), "maintMargin": str(abs(notional) * Decimal("0.004")),
        "positionInitialMargin": str(initial), "openOrderInitialMargin": "0", "adl": 0,
        "bidNotional": "0", "askNotional": "0", "updateTime": p.updated_ms,
    }


def asset(wallet: WalletView, update_ms: int) -> dict[str, Any]:
    margin_balance = wallet.balance + wallet.unrealised_pnl
    initial = wallet.position_im + wallet.order_im
    return {
        "asset": wallet.coin, "walletBalance": str(wallet.balance), "unrealizedProfit": str(wallet.unrealised_pnl),
        "marginBalance": str(margin_balance), "maintMargin": str(wallet.position_mm),
        "initialMargin": str(initial), "positionInitialMargin": str(wallet.position_im),
        "openOrderInitialMargin": str(wallet.order_im), "crossWalletBalance": str(wallet.balance),
        "crossUnPnl": str(wallet.unrealised_pnl), "availableBalance": str(wallet.available),
        "maxWithdrawAmount": str(wallet.available), "marginAvailable": True, "updateTime": update_ms,
    }


def trade(e: Execution, inst: Instrument, ids: NumericIds, trade_id: int) -> dict[str, Any]:
    return {
        "symbol": e.symbol, "id": trade_id, "orderId": ids.order(e.order_id), "side": side(e.side),
        "price": fixed(e.price, inst.tick_size), "qty": fixed(e.qty, inst.qty_step),
        "realizedPnl": str(e.realised_pnl), "marginAsset": "USDT", "quoteQty": str(e.value),
        "commission": str(e.fee), "commissionAsset": "USDT", "time": e.exec_ms, "positionSide": "BOTH",
        "maker": e.is_maker, "buyer": e.side is Side.BUY,
    }
