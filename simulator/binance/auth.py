"""Binance request signing: ``X-MBX-APIKEY`` plus HMAC-SHA256 over everything before ``&signature=``."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from simulator.binance.errors import BinanceError, mandatory
from simulator.engine.accounts import Account
from simulator.engine.venue import Engine

DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
FUTURE_TOLERANCE_MS = 1_000
_LONG = re.compile(r"[0-9]{1,20}")
INVALID_KEY = BinanceError(-2015, "Invalid API-key, IP, or permissions for action.", status=401)


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def api_key_account(engine: Engine, headers: Mapping[str, str]) -> Account:
    """The account behind the API-key header alone (the listenKey calls are not signed)."""
    key = headers.get("X-MBX-APIKEY", "")
    account = engine.account_by_key(key) if key else None
    if account is None:
        raise BinanceError(-2014 if not key else -2015,
                           "API-key format invalid." if not key else INVALID_KEY.msg, status=401)
    return account


def authenticate(engine: Engine, headers: Mapping[str, str], signed_text: str, values: Mapping[str, str], *,
                 now_ms: int) -> Account:
    """The account a signed request acts for: key, timestamp window, then signature, as Binance checks."""
    account = api_key_account(engine, headers)
    timestamp_text = values.get("timestamp", "")
    if not timestamp_text:
        raise mandatory("timestamp")
    window_text = values.get("recvWindow") or str(DEFAULT_RECV_WINDOW)
    for name, text in (("timestamp", timestamp_text), ("recvWindow", window_text)):
        # ASCII digits only: str.isdigit() also takes "\u00b2", which int() then refuses.
        if not _LONG.fullmatch(text):
            raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.")
    timestamp, window = int(timestamp_text), int(window_text)
    if window > MAX_RECV_WINDOW:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    if timestamp >= now_ms + FUTURE_TOLERANCE_MS or now_ms - timestamp > window:
        raise BinanceError(-1021, "Timestamp for this request is outside of the recvWindow.")
    unsigned, found, signature = signed_text.rpartition("&signature=")
    if not found or not signature:
        raise mandatory("signature")
    if not hmac.compare_digest(sign(account.api_secret, unsigned), signature):
        raise BinanceError(-1022, "Signature for this request is not valid.")
    return account
