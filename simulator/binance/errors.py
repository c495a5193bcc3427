"""Binance USD-M error answers: ``{"code": -NNNN, "msg": "..."}`` with the HTTP status Binance uses.

Messages are Binance's own; where the simulator adds a hint it says so after Binance's text.
"""

from __future__ import annotations

from collections.abc import Mapping

from simulator.engine.rejections import Rejection, RejectReason


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = dict(headers or {})


def mandatory(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def unsupported(parameter: str, what: str) -> BinanceError:
    # Binance has no code for "not modelled here". -1000 (unknown error) reads as transient to ccxt
    # (OperationFailed) and a bot would retry what can never succeed; -1106, a parameter sent where it
    # is not taken, is a bad request (ccxt's BadRequest), which is what it is for this venue.
    return BinanceError(-1106, f"Parameter {parameter} sent when not required. (this simulator doesn't (yet) support"
                        f" {what})")


UNKNOWN_ORDER = BinanceError(-2013, "Order does not exist.")
UNKNOWN_ORDER_CANCEL = BinanceError(-2011, "Unknown order sent.")
BAD_SYMBOL = BinanceError(-1121, "Invalid symbol.")
NOT_FOUND = BinanceError(-5000, "Path not found", status=404)
SYSTEM_ERROR = BinanceError(-1001, "Internal error; unable to process your request. Please try again.", status=503)


def from_rejection(rejection: Rejection, *, cancel: bool = False) -> BinanceError:
    reason, d = rejection.reason, rejection.detail
    if reason is RejectReason.UNKNOWN_SYMBOL:
        return BAD_SYMBOL
    if reason is RejectReason.ORDER_NOT_FOUND:
        return UNKNOWN_ORDER_CANCEL if cancel else UNKNOWN_ORDER
    if reason is RejectReason.INSUFFICIENT_BALANCE:
        return BinanceError(-2019, "Margin is insufficient.")
    if reason is RejectReason.REDUCE_ONLY_NOTHING_TO_REDUCE:
        return BinanceError(-2022, "ReduceOnly Order is rejected.")
    if reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID:
        return BinanceError(-4116, "ClientOrderId is duplicated.")
    if reason is RejectReason.BELOW_MIN_NOTIONAL:
        return BinanceError(-4164, f"Order's notional must be no smaller than {d.get('min_notional')} (unless you"
                            " choose reduce only).")
    if reason in (RejectReason.QTY_BELOW_MIN, RejectReason.QTY_ABOVE_MAX, RejectReason.QTY_OFF_STEP):
        return BinanceError(-1013, "Filter failure: LOT_SIZE")
    if reason in (RejectReason.PRICE_OFF_TICK, RejectReason.PRICE_OUT_OF_RANGE):
        return BinanceError(-1013, "Filter failure: PRICE_FILTER")
    if reason in (RejectReason.TRIGGER_NOT_ABOVE_PRICE, RejectReason.TRIGGER_NOT_BELOW_PRICE):
        return BinanceError(-2021, "Order would immediately trigger.")
    if reason is RejectReason.LEVERAGE_OUT_OF_RANGE:
        return BinanceError(-4028, "Leverage is not valid.")
    if reason is RejectReason.POSITION_MODE_NOT_MODIFIED:
        return BinanceError(-4059, "No need to change position side.")
    if reason is RejectReason.LEVERAGE_NOT_MODIFIED:
        return BinanceError(-4161, "Leverage not modified.")  # Binance answers success here; see the handler
    if reason is RejectReason.AMEND_UNSUPPORTED:
        return unsupported(str(d.get("parameter", "")), str(d["what"]))
    return BinanceError(-1000, f"An unknown error occurred while processing the request. ({rejection})")
