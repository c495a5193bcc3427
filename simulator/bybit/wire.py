"""Bybit's JSON envelope and the number formats its fields use."""

from __future__ import annotations

import decimal
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aiohttp import web

# How the venue signs its trace records.
ACTOR = "bybit"


def plain(value: Decimal | None) -> str:
    """A decimal as Bybit writes order and trade fields: no exponent, no trailing zeros."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def money(value: Decimal, places: int = 8) -> str:
    """Wallet and PnL figures: at most ``places`` decimals, trailing zeros dropped."""
    return plain(value.quantize(Decimal(1).scaleb(-places), context=_WIDE))


# Wide enough that any figure a venue can reach quantizes without raising.
_WIDE = decimal.Context(prec=60, Emax=999, Emin=-999)


def optional(value: Decimal | None) -> str:
    """Unset prices (TP, SL, trigger) are empty strings on the wire."""
    return "" if value is None else plain(value)


def dumps(payload: Mapping[str, Any]) -> str:
    """Compact JSON that is always valid UTF-8: a lone surrogate a client sent (and an error
    message echoes) becomes "?" rather than an encoding failure."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True, slots=True)
class WithExtInfo:
    """A result whose per-item outcomes go in ``retExtInfo`` (Bybit's batch endpoints)."""

    result: Mapping[str, Any]
    ext_info: Mapping[str, Any]


def envelope(result: Mapping[str, Any], *, now_ms: int, ret_code: int = 0, ret_msg: str = "OK",
             ext_info: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"retCode": ret_code, "retMsg": ret_msg, "result": dict(result), "retExtInfo": dict(ext_info or {}),
            "time": now_ms}


def reply(result: Mapping[str, Any] | WithExtInfo, *, now_ms: int) -> web.Response:
    if isinstance(result, WithExtInfo):
        body = envelope(result.result, now_ms=now_ms, ext_info=result.ext_info)
    else:
        body = envelope(result, now_ms=now_ms)
    return web.Response(text=dumps(body), content_type="application/json")


def error_reply(ret_code: int, ret_msg: str, *, now_ms: int, status: int = 200) -> web.Response:
    return web.Response(
        text=dumps(envelope({}, now_ms=now_ms, ret_code=ret_code, ret_msg=ret_msg)),
        status=status,
        content_type="application/json",
    )
