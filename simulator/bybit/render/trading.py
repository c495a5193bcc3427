"""Positions, executions and the wallet in Bybit v5's field shapes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.bybit.wire import money, optional, plain
from simulator.engine.accounts import WalletView
from simulator.engine.fills import Execution
from simulator.engine.margin import MAINTENANCE_RATE
from simulator.engine.market import MarketState
from simulator.engine.positions import Position
from simulator.engine.values import StopOrderType


def _break_even(position: Position, taker_fee_rate: Decimal) -> Decimal:
    """The price at which closing (as taker) gives back exactly the fees of opening and closing."""
    if position.is_flat:
        return Decimal(0)
    side = 1 if position.size > 0 else -1
    return position.entry_price * (1 + side * taker_fee_rate) / (1 - side * taker_fee_rate)


def position_item(position: Position, market: MarketState, *, taker_fee_rate: Decimal) -> dict[str, Any]:
    flat = position.is_flat
    mark = market.mark_price
    upl = position.unrealised_pnl(mark)
    im = position.initial_margin
    mm = position.value * MAINTENANCE_RATE
    return {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": position.symbol,
        "side": "" if position.side is None else position.side.value,
        "size": plain(position.qty),
        "avgPrice": "0" if flat else money(position.entry_price),
        "positionValue": "" if flat else plain(position.value),
        "tradeMode": 0,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": plain(position.leverage),
        "markPrice": plain(mark),
        "liqPrice": "",
        "bustPrice": "",
        "breakEvenPrice": money(_break_even(position, taker_fee_rate)),
        "positionIM": money(im),
        "positionIMByMp": money(position.qty * mark / position.leverage),
        "positionMM": money(mm),
        "positionMMByMp": money(position.qty * mark * MAINTENANCE_RATE),
        "positionBalance": money(im),
        "takeProfit": optional(position.take_profit),
        "stopLoss": optional(position.stop_loss),
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": "" if flat else money(upl),
        "curRealisedPnl": money(position.cur_realised_pnl),
        "cumRealisedPnl": money(position.cum_realised_pnl),
        "adlRankIndicator": 0 if flat else 2,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "tpslMode": position.tpsl_mode.value,
        "openTime": 0 if flat else position.created_ms,
        "createdTime": str(position.created_ms),
        "updatedTime": str(position.updated_ms),
        "seq": position.seq,
    }


def position_push(position: Position, market: MarketState, *, taker_fee_rate: Decimal) -> dict[str, Any]:
    """The ``position`` stream item: ``entryPrice`` where REST says ``avgPrice``."""
    item = {"category": "linear", **position_item(position, market, taker_fee_rate=taker_fee_rate)}
    item["entryPrice"] = item.pop("avgPrice")
    del item["openTime"]
    return item


def execution_item(execution: Execution) -> dict[str, Any]:
    stop = execution.stop_order_type
    item = {
        "symbol": execution.symbol,
        "orderId": execution.order_id,
        "orderLinkId": execution.client_order_id or "",
        "side": execution.side.value,
        "orderPrice": plain(execution.order_price),
        "orderQty": plain(execution.order_qty),
        "leavesQty": plain(execution.leaves_qty),
        "createType": execution.create_type.value,
        "orderType": execution.order_type.value,
        "stopOrderType": "UNKNOWN" if stop is StopOrderType.NONE else stop.value,
        "execFee": plain(execution.fee),
        "execId": execution.exec_id,
        "execPrice": plain(execution.price),
        "execQty": plain(execution.qty),
        "execType": execution.exec_type,
        "execValue": plain(execution.value),
        "execTime": str(execution.exec_ms),
        "feeCurrency": "",
        "isMaker": execution.is_maker,
        "feeRate": plain(execution.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": plain(execution.mark_price),
        "indexPrice": "",
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": plain(execution.closed_qty),
        "seq": execution.seq,
        "marketUnit": "",
        "extraFees": "",
    }
    if not execution.is_trade:  # a funding payment, as Bybit lists them: no order type or creator
        item.update(orderType="UNKNOWN", createType="")
    return item


def execution_push(execution: Execution) -> dict[str, Any]:
    """The ``execution`` stream item: adds the realised PnL and the fee currency to the REST item."""
    return {
        "category": "linear",
        **execution_item(execution),
        "isLeverage": "",
        "execPnl": plain(execution.realised_pnl),
        "feeCurrency": "USDT",
    }


def wallet_account(view: WalletView) -> dict[str, Any]:
    """One ``UNIFIED`` account row with its single USDT coin (valued 1:1 in USD)."""
    im = view.position_im + view.order_im
    equity = view.equity
    rate = (lambda part: money(part / equity, 4)) if equity > 0 else (lambda part: "0")
    coin = {
        "coin": view.coin,
        "equity": money(equity),
        "usdValue": money(equity),
        "walletBalance": money(view.balance),
        "locked": "0",
        "spotHedgingQty": "0",
        "borrowAmount": "0.000000000000000000",
        "availableToBorrow": "",
        "availableToWithdraw": "",
        "accruedInterest": "0",
        "totalOrderIM": money(view.order_im),
        "totalPositionIM": money(view.position_im),
        "totalPositionMM": money(view.position_mm),
        "unrealisedPnl": money(view.unrealised_pnl),
        "cumRealisedPnl": money(view.cum_realised_pnl),
        "bonus": "0",
        "spotBorrow": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
    }
    return {
        "accountType": "UNIFIED",
        "accountLTV": "0",
        "accountIMRate": rate(im),
        "accountIMRateByMp": rate(im),
        "accountMMRate": rate(view.position_mm),
        "accountMMRateByMp": rate(view.position_mm),
        "totalEquity": money(equity),
        "totalWalletBalance": money(view.balance),
        "totalMarginBalance": money(equity),
        "totalAvailableBalance": money(max(view.available, Decimal(0))),
        "totalPerpUPL": money(view.unrealised_pnl),
        "totalInitialMargin": money(im),
        "totalInitialMarginByMp": money(im),
        "totalMaintenanceMargin": money(view.position_mm),
        "totalMaintenanceMarginByMp": money(view.position_mm),
        "coin": [coin],
    }
