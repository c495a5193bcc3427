"""How a ccxt instance reaches a local venue: only its URLs differ from the real exchange."""

from __future__ import annotations

from typing import Any


def bybit_config(base_url: str, api_key: str, secret: str) -> dict[str, Any]:
    """Constructor config for ``ccxt.bybit`` / ``ccxt.pro.bybit`` (sync, async or pro) against ``base_url``.

    ccxt deep-merges ``urls`` into its defaults, so every other option keeps ccxt's
    default; pass this dict (merged with your own options) to the constructor.
    """
    http = base_url.rstrip("/")
    ws = "ws" + http.removeprefix("http")
    return {
        "apiKey": api_key,
        "secret": secret,
        "urls": {
            "api": {
                "spot": http, "futures": http, "v2": http, "public": http, "private": http,
                "ws": {
                    "public": {
                        "spot": f"{ws}/v5/public/spot",
                        "inverse": f"{ws}/v5/public/inverse",
                        "option": f"{ws}/v5/public/option",
                        "linear": f"{ws}/v5/public/linear",
                    },
                    "private": {
                        "spot": f"{ws}/v5/private",
                        "contract": f"{ws}/v5/private",
                        "usdc": f"{ws}/v5/private",
                        "trade": f"{ws}/v5/trade",
                    },
                },
            }
        },
    }


def binance_config(base_url: str, api_key: str, secret: str) -> dict[str, Any]:
    """Constructor config for ``ccxt.binanceusdm`` / ``ccxt.pro.binanceusdm`` against ``base_url``.

    With these overridden URLs ccxt applies only its generic error table: -2019 reaches you as
    ``ExchangeError``, not ``InsufficientFunds`` (see the README's Binance section).
    """
    http = base_url.rstrip("/")
    return {
        "apiKey": api_key,
        "secret": secret,
        "options": {"fetchCurrencies": False},
        "urls": {
            "api": {
                "fapiPublic": f"{http}/fapi/v1", "fapiPublicV2": f"{http}/fapi/v2", "fapiPublicV3": f"{http}/fapi/v3",
                "fapiPrivate": f"{http}/fapi/v1", "fapiPrivateV2": f"{http}/fapi/v2",
                "fapiPrivateV3": f"{http}/fapi/v3", "fapiData": f"{http}/futures/data",
                "public": f"{http}/api/v3", "private": f"{http}/api/v3", "sapi": f"{http}/sapi/v1",
                # ccxt rewrites a base ending in /ws to /private/ws?listenKey=... for the user data stream
                "ws": {"linear": "ws" + http.removeprefix("http") + "/ws"},
            }
        },
    }
