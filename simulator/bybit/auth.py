"""Request authentication exactly as Bybit v5 checks it.

REST: ``hex(HMAC_SHA256(secret, timestamp + api_key + recv_window + payload))`` where the
payload is the raw query string (GET) or the raw body (POST), compared byte for byte.
The timestamp must satisfy ``server - recv_window <= timestamp < server + 1000``.
WebSocket: ``hex(HMAC_SHA256(secret, "GET/realtime" + expires))`` with ``expires`` in the future.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from simulator.bybit.errors import (
    INVALID_API_KEY,
    INVALID_SIGN,
    PERMISSION_DENIED,
    TIMESTAMP_ERROR,
    BybitError,
    params_error,
)
from simulator.engine.accounts import Account
from simulator.engine.venue import Engine

DEFAULT_RECV_WINDOW = 5000
# The server accepts timestamps up to this far ahead of its own clock.
FUTURE_TOLERANCE_MS = 1000


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def signature_matches(expected: str, given: object) -> bool:
    """Constant-time comparison that tolerates any junk a client sends as a signature."""
    return hmac.compare_digest(expected.encode(), str(given).encode("utf-8", "surrogatepass"))


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 18


def authenticate_rest(
    engine: Engine, headers: Mapping[str, str], payload: str, *, now_ms: int, writes: bool
) -> Account:
    """The account a signed request acts for, checked in the order Bybit's gateway checks:
    headers present, timestamp window, key, permission, then signature."""
    api_key = headers.get("X-BAPI-API-KEY", "")
    timestamp_text = headers.get("X-BAPI-TIMESTAMP", "")
    signature = headers.get("X-BAPI-SIGN", "")
    if not (api_key and timestamp_text and signature):
        empty = f"empty value: apiTimestamp[{timestamp_text}] apiKey[{api_key}] apiSignature[{signature}]"
        raise params_error(empty if not api_key else f"{empty}: Request parameter error.")
    if not _digits(timestamp_text):
        raise params_error("openapi params error! req_timestamp invalid")
    window_text = headers.get("X-BAPI-RECV-WINDOW", str(DEFAULT_RECV_WINDOW))
    if not _digits(window_text):
        raise params_error("openapi params error! recv_window invalid")
    timestamp, recv_window = int(timestamp_text), int(window_text)
    if not now_ms - recv_window <= timestamp < now_ms + FUTURE_TOLERANCE_MS:
        raise BybitError(
            TIMESTAMP_ERROR,
            "invalid request, please check your server timestamp or recv_window param. "
            f"req_timestamp[{timestamp}],server_timestamp[{now_ms}],recv_window[{recv_window}]",
        )
    account = engine.account_by_key(api_key)
    if account is None:
        raise BybitError(INVALID_API_KEY, "API key is invalid.")
    if writes and account.read_only:
        raise BybitError(PERMISSION_DENIED, "Permission denied, please check your API key permissions.")
    origin = f"{timestamp_text}{api_key}{window_text}{payload}"
    if not signature_matches(sign(account.api_secret, origin), signature):
        raise BybitError(INVALID_SIGN, f"error sign! origin_string[{origin}]")
    return account


class WsAuthError(Exception):
    """A refused WebSocket auth. Bybit v5 says only "Params Error" whatever the cause; ``reason`` is
    what the venue logs so a user can find out which."""

    def __init__(self, message: str, *, reason: str = "") -> None:
        super().__init__(f"{message}: {reason}" if reason else message)
        self.message = message
        self.reason = reason


def authenticate_ws(engine: Engine, args: object, *, now_ms: int) -> Account:
    if not isinstance(args, list) or len(args) != 3:
        raise WsAuthError("Params Error", reason="args must be [api_key, expires, signature]")
    api_key, expires, signature = args
    account = engine.account_by_key(str(api_key))
    if account is None:
        raise WsAuthError("Params Error", reason=f"unknown api key {api_key!r}")
    try:
        expires_ms = int(expires)
    except (TypeError, ValueError, OverflowError):
        raise WsAuthError("Params Error", reason=f"expires {expires!r} is not an integer") from None
    if expires_ms <= now_ms:
        raise WsAuthError("Params Error", reason=f"expires {expires_ms} is not after venue time {now_ms}")
    if not signature_matches(sign(account.api_secret, f"GET/realtime{expires}"), signature):
        raise WsAuthError("Params Error", reason="signature does not match HMAC_SHA256(secret, 'GET/realtime' + expires)")
    return account
