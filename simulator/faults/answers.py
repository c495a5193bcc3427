"""Answers a fault gives instead of the venue's own, shaped as the venue (or the gateway in front of it) sends them.

Each is an ``HttpAnswer`` (the venue never saw the request) or, with ``applied=True``, an
``AnswerAfterApply`` (it did, and the client cannot tell): the two outcomes an "unknown" answer
leaves open. By name, for scenario files and the control API: ``answer = "binance-unknown-outcome"``.

    venue.faults.add(Fault("-1007 after the fill", RestTarget("POST", "/fapi/v1/order"),
                           binance_unknown_outcome(applied=True)))
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from simulator.faults.plan import AnswerAfterApply, HttpAnswer

Answer = HttpAnswer | AnswerAfterApply

_GATEWAY_TITLES = {500: "500 Internal Server Error", 502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable",
                   504: "504 Gateway Time-out"}


def _answer(status: int, body: str, content_type: str, headers: dict[str, str] | None, applied: bool) -> Answer:
    pairs = tuple(sorted((headers or {}).items()))
    if applied:
        return AnswerAfterApply(status, body, content_type, pairs)
    return HttpAnswer(status, body, content_type, pairs)


def gateway_page(status: int = 502, *, applied: bool = False) -> Answer:
    """The HTML error page of the load balancer in front of the venue (5xx, not the venue's JSON)."""
    title = _GATEWAY_TITLES.get(status)
    if title is None:
        raise ValueError(f"gateway_page knows statuses {sorted(_GATEWAY_TITLES)}, got {status}")
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n"
    return _answer(status, body, "text/html", None, applied)


# ---------------------------------------------------------------------------------------------- Binance


def binance_error(code: int, msg: str, status: int = 400, *, applied: bool = False,
                  headers: dict[str, str] | None = None) -> Answer:
    """Any Binance error, ``{"code": -NNNN, "msg": ...}`` with its HTTP status."""
    if code >= 0:
        raise ValueError(f"Binance error codes are negative, got {code}")
    return _answer(status, json.dumps({"code": code, "msg": msg}), "application/json", headers, applied)


def binance_unknown_outcome(*, applied: bool) -> Answer:
    """-1007 (HTTP 408): Binance's own "execution status unknown"; ``applied`` decides what really happened."""
    return binance_error(-1007, "Timeout waiting for response from backend server. Send status unknown; execution"
                         " status unknown.", 408, applied=applied)


def binance_internal_error(*, applied: bool = False) -> Answer:
    """-1001 (HTTP 503): Binance says the outcome of a 5xx is unknown, so ``applied`` may be either."""
    return binance_error(-1001, "Internal error; unable to process your request. Please try again.", 503,
                         applied=applied)


def binance_too_many_requests(retry_after_s: int = 60) -> Answer:
    """429 -1003 with Retry-After, as past the IP's request weight (the venue also does this itself)."""
    return binance_error(-1003, "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute."
                         " Please use the websocket for live updates to avoid polling the API.", 429,
                         headers={"Retry-After": str(_positive(retry_after_s, "retry_after_s"))})


def binance_ip_banned(until_ms: int, retry_after_s: int = 120) -> Answer:
    """418 -1003: the IP is banned until ``until_ms``."""
    return binance_error(-1003, f"Way too many requests; IP(127.0.0.1) banned until {until_ms}. Please use the"
                         " websocket for live updates to avoid bans.", 418,
                         headers={"Retry-After": str(_positive(retry_after_s, "retry_after_s"))})


# ---------------------------------------------------------------------------------------------- Bybit


def bybit_error(ret_code: int, ret_msg: str, *, applied: bool = False, headers: dict[str, str] | None = None) -> Answer:
    """Any Bybit v5 refusal: HTTP 200 with ``retCode``/``retMsg`` (no ``time``: a fixed answer has no clock)."""
    if ret_code <= 0:
        raise ValueError(f"a Bybit refusal has a positive retCode, got {ret_code}")
    body = json.dumps({"retCode": ret_code, "retMsg": ret_msg, "result": {}, "retExtInfo": {}}, separators=(",", ":"))
    return _answer(200, body, "application/json", headers, applied)


def bybit_unknown_outcome(*, applied: bool) -> Answer:
    """retCode 10016: Bybit's internal error, whose outcome the client cannot know."""
    return bybit_error(10016, "Internal system error.", applied=applied)


def bybit_too_many_visits(reset_ms: int = 0) -> Answer:
    """retCode 10006 "Too many visits!": the per-UID limit, with Bybit's limit headers."""
    return bybit_error(10006, "Too many visits!", headers={"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "0",
                                                          "X-Bapi-Limit-Reset-Timestamp": str(reset_ms)})


def bybit_ip_banned() -> Answer:
    """HTTP 403 from the gateway: the IP broke the 600-per-5-s limit and is banned (Bybit: 10 to 30 min)."""
    return _answer(403, "access too frequent", "text/plain", None, False)


def _positive(value: int, name: str) -> int:
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


# By name, for tables (scenario files, the control API). Each takes its keyword arguments from the table.
NAMED: dict[str, Callable[..., Answer]] = {
    "gateway-page": gateway_page,
    "binance-error": binance_error,
    "binance-unknown-outcome": binance_unknown_outcome,
    "binance-internal-error": binance_internal_error,
    "binance-too-many-requests": binance_too_many_requests,
    "binance-ip-banned": binance_ip_banned,
    "bybit-error": bybit_error,
    "bybit-unknown-outcome": bybit_unknown_outcome,
    "bybit-too-many-visits": bybit_too_many_visits,
    "bybit-ip-banned": bybit_ip_banned,
}


def named(name: str, arguments: dict[str, Any]) -> Answer:
    """The answer called ``name`` with ``arguments``; unknown names and arguments are refused with the known ones."""
    make = NAMED.get(name)
    if make is None:
        raise ValueError(f"answer = {name!r}; one of {sorted(NAMED)}")
    try:
        return make(**arguments)
    except TypeError as error:
        raise ValueError(f"answer {name!r}: {error}") from None
