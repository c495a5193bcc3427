"""Faults written as plain tables (a scenario file's ``[[fault]]``, a control API's JSON), read into values.

    {"name": "entry answer lost", "method": "POST", "path": "/v5/order/create", "effect": "drop-after-apply"}
    {"name": "pushes late", "stream": "/v5/private", "topic": "order", "effect": "delay-frame", "delay_ms": 500}
    {"name": "read side lags", "queries": "orders", "effect": "visibility-lag", "lag_ms": 5000}
    {"name": "-1007 after fill", "method": "POST", "path": "/fapi/v1/order", "effect": "answer",
     "answer": "binance-unknown-outcome", "applied": true}

Unknown keys and effects are refused by name (``FaultSpecError``), with the known ones listed.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from simulator.faults import answers
from simulator.faults.plan import (
    AbortStream,
    AnswerAfterApply,
    CloseStream,
    DelayFrame,
    DropAfterApply,
    DropBeforeApply,
    DropFrame,
    DuplicateFrame,
    During,
    Effect,
    Fault,
    HttpAnswer,
    Latency,
    LiquidityCap,
    MarketTarget,
    OnCall,
    PositionLag,
    QueryTarget,
    ReplaceFrame,
    RestTarget,
    StreamTarget,
    Trigger,
    TruncatedAnswer,
    VisibilityLag,
    WithProbability,
)

REST_EFFECTS = ("drop-before-apply", "drop-after-apply", "http", "answer-after-apply", "latency", "answer",
                "truncated-answer")
# What a named answer (simulator.faults.answers) may take from the table.
ANSWER_ARGUMENTS = ("applied", "status", "code", "msg", "ret_code", "ret_msg", "retry_after_s", "until_ms", "reset_ms")
STREAM_EFFECTS = ("drop-frame", "delay-frame", "close-stream", "abort-stream", "duplicate-frame", "replace-frame")
QUERY_EFFECTS = ("visibility-lag", "position-lag")
MARKET_EFFECTS = ("liquidity-cap",)
KEYS = frozenset({"name", "method", "path", "stream", "topic", "queries", "effect", "on_call", "times", "status",
                  "body", "content_type", "delay_ms", "lag_ms", "symbol", "qty", "answer", *ANSWER_ARGUMENTS,
                  "start_ms", "end_ms", "probability", "frame", "keep_bytes", "jitter_ms"})


class FaultSpecError(ValueError):
    """A fault table is wrong; the message names the key and the fix."""


def fault_from_table(table: Mapping[str, Any]) -> Fault:
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise FaultSpecError(f"unknown key(s) {unknown}; known: {sorted(KEYS)}")
    name = _text(table, "name")
    effect_name = _text(table, "effect")
    try:
        trigger = _trigger(table)
        if effect_name in MARKET_EFFECTS:
            qty = table.get("qty")
            try:
                cap = Decimal(str(qty))
            except InvalidOperation:
                raise FaultSpecError(f"qty = {qty!r}: not a number") from None
            return Fault(name, MarketTarget(table.get("symbol")), LiquidityCap(cap), trigger)
        if effect_name == "position-lag":
            return Fault(name, QueryTarget(str(table.get("queries", "positions"))), PositionLag(ms=_int(table, "lag_ms")),
                         trigger)
        if effect_name in QUERY_EFFECTS:
            return Fault(name, QueryTarget(str(table.get("queries", "orders"))),
                         VisibilityLag(ms=_int(table, "lag_ms")), trigger)
        if effect_name in STREAM_EFFECTS:
            return Fault(name, StreamTarget(_text(table, "stream"), table.get("topic")), _stream_effect(table, effect_name),
                         trigger)
        if effect_name in REST_EFFECTS:
            return Fault(name, RestTarget(_text(table, "method"), _text(table, "path")), _rest_effect(table, effect_name),
                         trigger)
    except FaultSpecError:
        raise
    except ValueError as error:
        raise FaultSpecError(str(error)) from None
    raise FaultSpecError(f"effect = {effect_name!r};"
                         f" one of {[*REST_EFFECTS, *STREAM_EFFECTS, *QUERY_EFFECTS, *MARKET_EFFECTS]}")


def _trigger(table: Mapping[str, Any]) -> Trigger:
    kinds = [keys for keys in (("on_call", "times"), ("start_ms", "end_ms"), ("probability",))
             if any(k in table for k in keys)]
    if len(kinds) > 1:
        raise FaultSpecError(f"one trigger per fault: {' / '.join('+'.join(k) for k in kinds)} were all given;"
                             " keep one of on_call(+times), start_ms+end_ms, probability")
    if "probability" in table:
        p = table["probability"]
        if isinstance(p, bool) or not isinstance(p, int | float):
            raise FaultSpecError(f"probability must be a number in (0, 1], got {p!r}")
        return WithProbability(float(p))
    if "start_ms" in table or "end_ms" in table:
        return During(_int(table, "start_ms", 0), _int(table, "end_ms"))
    return OnCall(n=_int(table, "on_call", 1), times=_int(table, "times", 1))


def _rest_effect(table: Mapping[str, Any], name: str) -> Effect:
    if name == "drop-before-apply":
        return DropBeforeApply()
    if name == "drop-after-apply":
        return DropAfterApply()
    if name == "latency":
        return Latency(ms=_int(table, "delay_ms"), jitter_ms=_int(table, "jitter_ms", 0))
    if name == "truncated-answer":
        return TruncatedAnswer(keep_bytes=_int(table, "keep_bytes"))
    if name == "answer":
        return answers.named(_text(table, "answer"), {k: table[k] for k in ANSWER_ARGUMENTS if k in table})
    body, content_type = str(table.get("body", "")), table.get("content_type")
    if name == "http":
        return HttpAnswer(status=_int(table, "status"), body=body, content_type=str(content_type or "text/html"))
    return AnswerAfterApply(status=_int(table, "status"), body=body,
                            content_type=str(content_type or "application/json"))


def _stream_effect(table: Mapping[str, Any], name: str) -> Effect:
    if name == "drop-frame":
        return DropFrame()
    if name == "close-stream":
        return CloseStream()
    if name == "abort-stream":
        return AbortStream()
    if name == "duplicate-frame":
        return DuplicateFrame()
    if name == "replace-frame":
        return ReplaceFrame(_text(table, "frame"))
    return DelayFrame(ms=_int(table, "delay_ms"))


def _text(table: Mapping[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise FaultSpecError(f"{key!r} is required: a non-empty string" + ("" if value is None else f", got {value!r}"))
    return value


def _int(table: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = table.get(key, default)
    if value is None:
        raise FaultSpecError(f"{key!r} is required: a whole number")
    if isinstance(value, bool) or not isinstance(value, int):
        raise FaultSpecError(f"{key} must be a whole number, got {value!r}")
    return value
