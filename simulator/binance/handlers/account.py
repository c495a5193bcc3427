"""The account: balances, positions, leverage and modes, and the user data stream's listen key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulator.binance.errors import BinanceError, from_rejection, unsupported
from simulator.binance.handlers.trade import _symbol
from simulator.binance.render import asset, position_risk
from simulator.binance.routing import KEY, Call, route
from simulator.engine.margin import MAINTENANCE_RATE, RISK_LIMIT_VALUE
from simulator.engine.rejections import Rejection, RejectReason


def _asset(call: Call) -> dict[str, Any]:
    wallet = call.engine.wallet_view(call.account_id)
    return asset(wallet, call.now_ms)


def balance(call: Call) -> list[dict[str, Any]]:
    a = _asset(call)
    return [{"accountAlias": "SgsR", "asset": a["asset"], "balance": a["walletBalance"],
             "crossWalletBalance": a["crossWalletBalance"], "crossUnPnl": a["crossUnPnl"],
             "availableBalance": a["availableBalance"], "maxWithdrawAmount": a["maxWithdrawAmount"],
             "marginAvailable": True, "updateTime": call.now_ms}]


def _positions(call: Call) -> list[dict[str, Any]]:
    engine = call.engine
    symbol = call.params.text("symbol")
    if symbol is not None:
        _symbol(call)
    rows = []
    for p in engine.queried_positions(engine.positions(call.account_id)):
        if p.size == 0 or (symbol is not None and p.symbol != symbol):
            continue
        inst = engine.instrument(p.symbol)
        rows.append(position_risk(p, engine.market(p.symbol), inst, engine.leverage(call.account_id, p.symbol)))
    return rows


def position_risk_v3(call: Call) -> list[dict[str, Any]]:
    return _positions(call)


def position_risk_v2(call: Call) -> list[dict[str, Any]]:
    rows = _positions(call)
    for row in rows:
        row["leverage"] = str(call.engine.leverage(call.account_id, row["symbol"]))
        row["marginType"] = "cross"
        row["isAutoAddMargin"] = "false"
        row["maxNotionalValue"] = "100000000"
    return rows


def account(call: Call) -> dict[str, Any]:
    a = _asset(call)
    positions = _positions(call)
    return {
        "totalInitialMargin": a["initialMargin"], "totalMaintMargin": a["maintMargin"],
        "totalWalletBalance": a["walletBalance"], "totalUnrealizedProfit": a["unrealizedProfit"],
        "totalMarginBalance": a["marginBalance"], "totalPositionInitialMargin": a["positionInitialMargin"],
        "totalOpenOrderInitialMargin": a["openOrderInitialMargin"], "totalCrossWalletBalance": a["walletBalance"],
        "totalCrossUnPnl": a["unrealizedProfit"], "availableBalance": a["availableBalance"],
        "maxWithdrawAmount": a["maxWithdrawAmount"], "assets": [a], "positions": positions,
    }


def leverage_bracket(call: Call) -> list[dict[str, Any]]:
    symbol = call.params.text("symbol")
    instruments = [call.engine.instrument(_symbol(call))] if symbol else call.engine.instruments()
    # One bracket: the engine's margin model (a flat maintenance rate, no cap it enforces).
    return [{"symbol": i.symbol, "notionalCoef": 1.0, "brackets": [
        {"bracket": 1, "initialLeverage": int(i.max_leverage), "notionalCap": int(RISK_LIMIT_VALUE), "notionalFloor": 0,
         "maintMarginRatio": float(MAINTENANCE_RATE), "cum": 0.0},
    ]} for i in instruments]


def set_leverage(call: Call) -> dict[str, Any]:
    symbol = _symbol(call)
    value = call.params.integer("leverage", required=True)
    assert value is not None
    try:
        call.engine.set_leverage(call.account_id, symbol, Decimal(value))
    except Rejection as rejection:
        if rejection.reason is not RejectReason.LEVERAGE_NOT_MODIFIED:  # Binance answers success either way
            raise from_rejection(rejection) from None
    return {"leverage": value, "maxNotionalValue": "100000000", "symbol": symbol}


def margin_type(call: Call) -> dict[str, Any]:
    _symbol(call)
    wanted = call.params.need("marginType")
    if wanted == "CROSSED":
        raise BinanceError(-4046, "No need to change margin type.")
    if wanted == "ISOLATED":
        raise unsupported("marginType", "isolated margin")
    raise BinanceError(-1102, "Mandatory parameter 'marginType' was not sent, was empty/null, or malformed.")


def symbol_config(call: Call) -> list[dict[str, Any]]:
    """``fetch_leverage(s)``, ``fetch_margin_mode``: each symbol's leverage and margin type (always cross)."""
    symbol = call.params.text("symbol")
    instruments = [call.engine.instrument(_symbol(call))] if symbol else call.engine.instruments()
    return [{"symbol": i.symbol, "marginType": "CROSSED", "isAutoAddMargin": "false",
             "leverage": int(call.engine.leverage(call.account_id, i.symbol)),
             "maxNotionalValue": str(int(RISK_LIMIT_VALUE))} for i in instruments]


def account_config(call: Call) -> dict[str, Any]:
    """``fetch_trading_fees`` reads the fee tier, 0 here; ccxt then takes the rates from its own table for
    it (0.02% / 0.04%), while commissionRate and the fills carry this venue's (0.02% / 0.05%)."""
    return {"feeTier": 0, "canTrade": True, "canDeposit": True, "canWithdraw": True, "dualSidePosition": False,
            "updateTime": 0, "multiAssetsMargin": False, "tradeGroupId": -1}


def multi_assets_margin(call: Call) -> dict[str, Any]:
    return {"multiAssetsMargin": False}  # single-asset mode: USDT margins USDT contracts


def position_mode(call: Call) -> dict[str, Any]:
    return {"dualSidePosition": False}


def set_position_mode(call: Call) -> dict[str, Any]:
    dual = call.params.need("dualSidePosition")
    if dual == "false":
        raise BinanceError(-4059, "No need to change position side.")
    raise unsupported("dualSidePosition", "hedge mode (dualSidePosition=true)")


def new_listen_key(call: Call) -> dict[str, Any]:
    return {"listenKey": call.listen_keys.open(call.account_id, call.now_ms).key}


def keep_listen_key(call: Call) -> dict[str, Any]:
    return {"listenKey": call.listen_keys.keep(call.account_id, call.now_ms).key}


def close_listen_key(call: Call) -> dict[str, Any]:
    call.listen_keys.close(call.account_id)
    return {}


INCOME_TYPES = frozenset({"TRANSFER", "WELCOME_BONUS", "REALIZED_PNL", "FUNDING_FEE", "COMMISSION", "INSURANCE_CLEAR",
                          "REFERRAL_KICKBACK", "COMMISSION_REBATE", "API_REBATE", "CONTEST_REWARD", "CROSS_COLLATERAL_TRANSFER",
                          "OPTIONS_PREMIUM_FEE", "OPTIONS_SETTLE_PROFIT", "INTERNAL_TRANSFER", "AUTO_EXCHANGE",
                          "DELIVERED_SETTELMENT", "COIN_SWAP_DEPOSIT", "COIN_SWAP_WITHDRAW", "POSITION_LIMIT_INCREASE_FEE",
                          "STRATEGY_UMFUTURES_TRANSFER", "FEE_RETURN", "BFUSD_REWARD"})
SEVEN_DAYS_MS = 7 * 86_400_000


def income(call: Call) -> list[dict[str, Any]]:
    """``fetch_funding_history``, ``fetch_ledger``: the account's realised PnL, commissions and funding
    fees, oldest first, within 7 days back from ``endTime`` (or now). Deposits are not listed."""
    params = call.params
    symbol = params.text("symbol")
    if symbol is not None:
        _symbol(call)
    wanted = params.text("incomeType")
    if wanted is not None and wanted not in INCOME_TYPES:
        raise BinanceError(-1100, "Illegal characters found in parameter 'incomeType'.")
    given, page = params.integer("limit"), params.integer("page")  # both read before the limit is judged
    limit = 100 if given is None else given
    if not 1 <= limit <= 1000:
        raise BinanceError(-1130, "Data sent for parameter 'limit' is not valid.")
    start, end = params.integer("startTime"), params.integer("endTime")
    end = call.now_ms if end is None else end
    start = end - SEVEN_DAYS_MS if start is None else start
    rows: list[dict[str, Any]] = []
    for e in sorted(call.engine.orders.executions_for(call.account_id), key=lambda e: e.seq):
        if not start <= e.exec_ms <= end or (symbol is not None and e.symbol != symbol):
            continue
        trade = "" if not e.is_trade else str(call.ids.trade(e.exec_id, e.symbol))
        entries = [("FUNDING_FEE", -e.fee)] if not e.is_trade else \
            ([("REALIZED_PNL", e.realised_pnl)] if e.realised_pnl else []) + [("COMMISSION", -e.fee)]
        rows.extend({"symbol": e.symbol, "incomeType": kind, "income": f"{amount:.8f}", "asset": "USDT",
                     "info": kind, "time": e.exec_ms, "tranId": call.ids.transaction(f"{e.exec_id}:{kind}"),
                     "tradeId": trade} for kind, amount in entries if wanted in (None, kind))
    if page is not None and page < 1:
        raise BinanceError(-1130, "Data sent for parameter 'page' is not valid.")
    first = ((page or 1) - 1) * limit
    return rows[first:first + limit]


def commission_rate(call: Call) -> dict[str, Any]:
    """``fetch_trading_fee``: the account's maker and taker rates for one symbol."""
    inst = call.engine.instrument(_symbol(call))
    return {"symbol": inst.symbol, "makerCommissionRate": str(inst.maker_fee_rate),
            "takerCommissionRate": str(inst.taker_fee_rate)}


ROUTES = (
    route("GET", "/fapi/v1/commissionRate", commission_rate, weight=20),
    route("GET", "/fapi/v1/income", income, weight=30),
    route("GET", "/fapi/v2/balance", balance, weight=5),
    route("GET", "/fapi/v3/balance", balance, weight=5),
    route("GET", "/fapi/v2/account", account, weight=5),
    route("GET", "/fapi/v3/account", account, weight=5),
    route("GET", "/fapi/v2/positionRisk", position_risk_v2, weight=5),
    route("GET", "/fapi/v3/positionRisk", position_risk_v3, weight=5),
    route("GET", "/fapi/v1/leverageBracket", leverage_bracket),
    route("POST", "/fapi/v1/leverage", set_leverage),
    route("POST", "/fapi/v1/marginType", margin_type),
    route("GET", "/fapi/v1/positionSide/dual", position_mode, weight=30),
    route("GET", "/fapi/v1/symbolConfig", symbol_config, weight=5),
    route("GET", "/fapi/v1/accountConfig", account_config, weight=5),
    route("GET", "/fapi/v1/multiAssetsMargin", multi_assets_margin, weight=30),
    route("POST", "/fapi/v1/positionSide/dual", set_position_mode),
    route("POST", "/fapi/v1/listenKey", new_listen_key, KEY),
    route("PUT", "/fapi/v1/listenKey", keep_listen_key, KEY),
    route("DELETE", "/fapi/v1/listenKey", close_listen_key, KEY),
)
