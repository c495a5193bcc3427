"""Bybit's error codes and messages, and how engine refusals map onto them.

Business errors travel as HTTP 200 with a non-zero ``retCode``, exactly as Bybit answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from simulator.engine.rejections import Rejection, RejectReason


class BybitError(Exception):
    """A request the venue refuses; becomes one Bybit error envelope."""

    def __init__(self, ret_code: int, ret_msg: str, *, status: int = 200) -> None:
        super().__init__(f"{ret_code}: {ret_msg}")
        self.ret_code = ret_code
        self.ret_msg = ret_msg
        self.status = status


E4 = 10_000
E8 = 100_000_000

PARAMS_ERROR = 10001
TIMESTAMP_ERROR = 10002
INVALID_API_KEY = 10003
INVALID_SIGN = 10004
PERMISSION_DENIED = 10005
SYSTEM_ERROR = 10016
ROUTE_NOT_FOUND = 10017
ORDER_NOT_FOUND = 110001


def params_error(message: str) -> BybitError:
    return BybitError(PARAMS_ERROR, message)


def missing(name: str) -> BybitError:
    return params_error(f"Missing some parameters that must be filled in, {name}")


def type_error(name: str) -> BybitError:
    """A JSON value of the wrong type (a number where Bybit documents a string, say): Bybit names no field."""
    return params_error("Request parameter error.")


def scaled(value: object, factor: int) -> str:
    """Bybit quotes prices and quantities in some messages as integers scaled by a power of ten."""
    try:
        return str(int(Decimal(str(value)) * factor))
    except (ArithmeticError, ValueError):
        return str(value)  # beyond what the wire can carry; show it as given


def invalid(name: str) -> BybitError:
    return params_error(f"params error: {name} invalid")


def _plain(value: object) -> str:
    return format(Decimal(str(value)).normalize(), "f")


Render = Callable[[Mapping[str, object]], tuple[int, str]]

_REJECTIONS: dict[RejectReason, Render] = {
    RejectReason.UNKNOWN_SYMBOL: lambda d: (PARAMS_ERROR, "params error: symbol invalid"),
    RejectReason.SYMBOL_NOT_TRADING: lambda d: (110073, f"symbol {d['symbol']} is not trading, status {d['status']}"),
    RejectReason.QTY_OFF_STEP: lambda d: (PARAMS_ERROR, "Qty invalid"),
    RejectReason.QTY_BELOW_MIN: lambda d: (PARAMS_ERROR, "The number of contracts exceeds minimum limit allowed"),
    RejectReason.QTY_ABOVE_MAX: lambda d: (
        PARAMS_ERROR,
        "The number of contracts exceeds maximum limit allowed: too large, "
        f"order_qty:{scaled(d['qty'], E8)} > max_qty:{scaled(d['max_qty'], E8)}",
    ),
    RejectReason.PRICE_OFF_TICK: lambda d: (PARAMS_ERROR, "Price invalid"),
    RejectReason.PRICE_OUT_OF_RANGE: lambda d: (PARAMS_ERROR, "Price invalid"),
    RejectReason.BELOW_MIN_NOTIONAL: lambda d: (
        110094, f"Order does not meet minimum order value {_plain(d['min_notional'])}USDT"
    ),
    RejectReason.INSUFFICIENT_BALANCE: lambda d: (110007, "ab not enough for new order"),
    RejectReason.REDUCE_ONLY_NOTHING_TO_REDUCE: lambda d: (110017, "Reduce-only rule not satisfied"),
    RejectReason.ORDER_NOT_FOUND: lambda d: (
        ORDER_NOT_FOUND, f"order not exists or too late to {d.get('action', 'cancel')}"
    ),
    RejectReason.ORDER_NOT_MODIFIED: lambda d: (
        PARAMS_ERROR, "The order remains unchanged as the parameters entered match the existing ones."
    ),
    RejectReason.QTY_BELOW_FILLED: lambda d: (
        PARAMS_ERROR, "The modified order quantity must be equal to or greater than the filled quantity."
    ),
    RejectReason.AMEND_UNSUPPORTED: lambda d: (PARAMS_ERROR, f"this simulator doesn't (yet) support {d['what']}"),
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: lambda d: (110072, "OrderLinkedID is duplicate"),
    RejectReason.TRIGGER_NOT_ABOVE_PRICE: lambda d: (
        110092,
        f"expect Rising, but trigger_price[{scaled(d['trigger_price'], E4)}] <= "
        f"current[{scaled(d['current'], E4)}]??LastPrice",
    ),
    RejectReason.TRIGGER_NOT_BELOW_PRICE: lambda d: (
        110093,
        f"expect Falling, but trigger_price[{scaled(d['trigger_price'], E4)}] >= "
        f"current[{scaled(d['current'], E4)}]??LastPrice",
    ),
    RejectReason.STOP_LOSS_WRONG_SIDE: lambda d: (
        PARAMS_ERROR,
        f"StopLoss:{scaled(d['stop_loss'], E8)} set for {d['side']} position should "
        f"{'lower than' if d['side'] == 'Buy' else 'greater'} base_price:{scaled(d['base_price'], E8)}??LastPrice",
    ),
    RejectReason.TAKE_PROFIT_WRONG_SIDE: lambda d: (
        PARAMS_ERROR,
        f"TakeProfit:{scaled(d['take_profit'], E8)} set for {d['side']} position should "
        f"{'greater' if d['side'] == 'Buy' else 'lower than'} base_price:{scaled(d['base_price'], E8)}??LastPrice",
    ),
    RejectReason.NO_POSITION_FOR_TPSL: lambda d: (PARAMS_ERROR, "can not set tp/sl/ts for zero position"),
    RejectReason.TPSL_NOT_MODIFIED: lambda d: (34040, "not modified"),
    RejectReason.LEVERAGE_NOT_MODIFIED: lambda d: (110043, "leverage not modified"),
    RejectReason.LEVERAGE_OUT_OF_RANGE: lambda d: (
        (110013, f"cannot set leverage [{scaled(d['leverage'], 100)}] gt maxLeverage "
                 f"[{scaled(d['max_leverage'], 100)}] by risk limit")
        if Decimal(str(d["leverage"])) > Decimal(str(d["max_leverage"]))
        else (PARAMS_ERROR, "leverage invalid")
    ),
    RejectReason.LEVERAGE_OFF_STEP: lambda d: (PARAMS_ERROR, "leverage invalid"),
    RejectReason.POSITION_MODE_NOT_MODIFIED: lambda d: (110025, "Position mode is not modified"),
}


def from_rejection(rejection: Rejection) -> BybitError:
    code, message = _REJECTIONS[rejection.reason](rejection.detail)
    return BybitError(code, message)
