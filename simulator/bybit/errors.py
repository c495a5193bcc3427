"""Bybit's error codes and messages, and how engine refusals map onto them.

Business errors travel as HTTP 200 with a non-zero ``retCode``, exactly as Bybit answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from simulator.engine.rejections import RejectReason, Rejection


class BybitError(Exception):
    """A request the venue refuses; becomes one Bybit error envelope."""

    def __init__(self, ret_code: int, ret_msg: str, *, status: int = 200) -> None:
        super().__init__(f"{ret_code}: {ret_msg}")
        self.ret_code = ret_code
        self.ret_msg = ret_msg
        self.status = status


PARAMS_ERROR = 10001
TIMESTAMP_ERROR = 10002
INVALID_API_KEY = 10003
INVALID_SIGN = 10004
PERMISSION_DENIED = 10005
SYSTEM_ERROR = 10016
ORDER_NOT_FOUND = 110001


def params_error(message: str) -> BybitError:
    return BybitError(PARAMS_ERROR, message)


def missing(name: str) -> BybitError:
    return params_error(f"Missing some parameters that must be filled in, Missing {name}")


def invalid(name: str) -> BybitError:
    return params_error(f"params error: {name} invalid")


Render = Callable[[Mapping[str, object]], tuple[int, str]]

_REJECTIONS: dict[RejectReason, Render] = {
    RejectReason.UNKNOWN_SYMBOL: lambda d: (PARAMS_ERROR, "params error: symbol invalid"),
    RejectReason.SYMBOL_NOT_TRADING: lambda d: (110073, f"symbol {d['symbol']} is not trading, status {d['status']}"),
    RejectReason.QTY_OFF_STEP: lambda d: (PARAMS_ERROR, "Qty invalid"),
    RejectReason.QTY_BELOW_MIN: lambda d: (PARAMS_ERROR, "The number of contracts exceeds minimum limit allowed"),
    RejectReason.QTY_ABOVE_MAX: lambda d: (PARAMS_ERROR, "The number of contracts exceeds maximum limit allowed"),
    RejectReason.PRICE_OFF_TICK: lambda d: (PARAMS_ERROR, "Price invalid"),
    RejectReason.PRICE_OUT_OF_RANGE: lambda d: (PARAMS_ERROR, "Price invalid"),
    RejectReason.BELOW_MIN_NOTIONAL: lambda d: (
        110094,
        f"The order value must be no less than {d['min_notional']} USDT. Increase qty or price.",
    ),
    RejectReason.INSUFFICIENT_BALANCE: lambda d: (110007, "ab not enough for new order"),
    RejectReason.REDUCE_ONLY_NOTHING_TO_REDUCE: lambda d: (
        110017,
        "current position is zero, cannot fix reduce-only order qty",
    ),
    RejectReason.ORDER_NOT_FOUND: lambda d: (ORDER_NOT_FOUND, "order not exists or too late to cancel"),
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: lambda d: (110072, "OrderLinkedID is duplicate"),
    RejectReason.TRIGGER_NOT_ABOVE_PRICE: lambda d: (
        110092,
        f"expect Rising, but trigger_price[{d['trigger_price']}] <= current[{d['current']}]??LastPrice",
    ),
    RejectReason.TRIGGER_NOT_BELOW_PRICE: lambda d: (
        110093,
        f"expect Falling, but trigger_price[{d['trigger_price']}] >= current[{d['current']}]??LastPrice",
    ),
    RejectReason.STOP_LOSS_WRONG_SIDE: lambda d: (
        PARAMS_ERROR,
        f"StopLoss:{d['stop_loss']} set for {d['side']} position should "
        f"{'lower' if d['side'] == 'Buy' else 'higher'} than base_price:{d['base_price']}??LastPrice",
    ),
    RejectReason.TAKE_PROFIT_WRONG_SIDE: lambda d: (
        PARAMS_ERROR,
        f"TakeProfit:{d['take_profit']} set for {d['side']} position should "
        f"{'higher' if d['side'] == 'Buy' else 'lower'} than base_price:{d['base_price']}??LastPrice",
    ),
    RejectReason.NO_POSITION_FOR_TPSL: lambda d: (PARAMS_ERROR, "can not set tp/sl/ts for zero position"),
    RejectReason.TPSL_NOT_MODIFIED: lambda d: (34040, "not modified"),
    RejectReason.LEVERAGE_NOT_MODIFIED: lambda d: (110043, "leverage not modified"),
    RejectReason.LEVERAGE_OUT_OF_RANGE: lambda d: (
        PARAMS_ERROR,
        f"leverage invalid: {d['leverage']} is outside [{d['min_leverage']}, {d['max_leverage']}]",
    ),
    RejectReason.POSITION_MODE_NOT_MODIFIED: lambda d: (110025, "Position mode is not modified"),
}


def from_rejection(rejection: Rejection) -> BybitError:
    code, message = _REJECTIONS[rejection.reason](rejection.detail)
    return BybitError(code, message)
