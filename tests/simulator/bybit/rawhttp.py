"""Signed raw HTTP requests to a local Bybit venue, for what ccxt would never send."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp

from simulator.bybit.auth import sign
from simulator.server import RunningVenue


def headers(venue: RunningVenue, payload: str, *, timestamp: int | None = None, recv_window: str = "5000",
            api_key: str | None = None, secret: str | None = None) -> dict[str, str]:
    ts = str(venue.engine.now_ms() if timestamp is None else timestamp)
    key = venue.api_key if api_key is None else api_key
    signature = sign(venue.api_secret if secret is None else secret, ts + key + recv_window + payload)
    return {
        "X-BAPI-API-KEY": key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": recv_window,
        "X-BAPI-SIGN": signature, "Content-Type": "application/json",
    }


async def get(venue: RunningVenue, path: str, params: dict[str, Any] | None = None, *, signed: bool = True,
              **auth: Any) -> tuple[int, dict[str, Any]]:
    query = urlencode(params or {})
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"{venue.base_url}{path}" + (f"?{query}" if query else ""),
            headers=headers(venue, query, **auth) if signed else {},
        ) as response:
            return response.status, await response.json(content_type=None)


async def post(venue: RunningVenue, path: str, body: dict[str, Any] | str | bytes, **auth: Any) -> tuple[int, dict[str, Any]]:
    if isinstance(body, dict):
        raw: str | bytes = json.dumps(body, separators=(",", ":"))
    else:
        raw = body
    payload = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{venue.base_url}{path}", data=raw, headers=headers(venue, payload, **auth)) as response:
            return response.status, await response.json(content_type=None)
