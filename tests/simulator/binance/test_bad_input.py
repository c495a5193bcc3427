"""Bad input gets Binance's own answer, exactly shaped; the venue keeps serving."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt
import pytest

from simulator.server import RunningBinance

pytestmark = pytest.mark.virtual_time


async def signed(venue: RunningBinance, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
    query = urlencode({"timestamp": venue.engine.now_ms(), **params, "recvWindow": 10_000})
    signature = hmac.new(venue.api_secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    url = f"{venue.base_url}{path}?{query}&signature={signature}"
    async with aiohttp.ClientSession() as session:
        async with session.request(method, url, headers={"X-MBX-APIKEY": venue.api_key}) as response:
            return response.status, json.loads(await response.text())


@pytest.mark.parametrize(("params", "code"), [
    ({"side": "BUY", "type": "MARKET", "quantity": "0.01"}, -1102),  # no symbol
    ({"symbol": "NOPEUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}, -1121),
    ({"symbol": "BTCUSDT", "side": "UP", "type": "MARKET", "quantity": "0.01"}, -1117),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "ICEBERG", "quantity": "0.01"}, -1116),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "STOP_MARKET", "quantity": "0.01"}, -4120),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "1e3"}, -1102),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.0123"}, -1013),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "59000"}, -1102),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01", "positionSide": "LONG"}, -4061),
    ({"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01", "newClientOrderId": "x" * 40},
     -4015),
], ids=["no-symbol", "unknown-symbol", "bad-side", "bad-type", "algo-type-on-order", "exponent", "lot-size",
        "limit-without-tif", "hedge-side", "long-client-id"])
async def test_a_bad_order_gets_binances_code_and_400(binance_venue: RunningBinance, params: dict[str, Any],
                                                      code: int) -> None:
    status, body = await signed(binance_venue, "POST", "/fapi/v1/order", params)

    assert (status, body["code"]) == (400, code), body
    assert set(body) == {"code", "msg"}
    ok, _ = await signed(binance_venue, "GET", "/fapi/v3/account", {})
    assert ok == 200  # still serving


async def test_a_duplicate_open_client_id_is_refused_as_binance_does(binance_venue: RunningBinance) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "59000",
             "timeInForce": "GTC", "newClientOrderId": "mine-1"}
    assert (await signed(binance_venue, "POST", "/fapi/v1/order", order))[0] == 200

    status, body = await signed(binance_venue, "POST", "/fapi/v1/order", order)

    assert (status, body) == (400, {"code": -4116, "msg": "ClientOrderId is duplicated."})


async def test_an_unknown_path_is_a_404_in_binances_shape(binance_venue: RunningBinance) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{binance_venue.base_url}/fapi/v1/nothing") as response:
            body = await response.json()
    assert response.status == 404 and body["code"] == -5000 and "doesn't (yet) support" in body["msg"]


@pytest.mark.parametrize("timestamp", ["\u00b2", "\u0663", "\uff11\uff10", "1e12", "-1"],
                         ids=["superscript", "arabic-indic", "fullwidth", "exponent", "negative"])
async def test_a_timestamp_of_other_than_ascii_digits_is_refused_by_name(binance_venue: RunningBinance,
                                                                          timestamp: str) -> None:
    # str.isdigit() takes the first three; Binance's range is ASCII digits only.
    status, body = await signed(binance_venue, "GET", "/fapi/v3/account", {"timestamp": timestamp})

    assert (status, body) == (400, {"code": -1100, "msg": "Illegal characters found in parameter 'timestamp'; "
                                                          "legal range is '^[0-9]{1,20}$'."})
    assert binance_venue.venue.internal_errors == []


async def test_what_the_venue_does_not_model_is_a_bad_request_a_bot_will_not_retry(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    with pytest.raises(ccxt.BadRequest, match=r"-1106.*Parameter marginType sent when not required.*support isolated margin"):
        await rest.set_margin_mode("isolated", "BTC/USDT:USDT")
    status, body = await signed(binance_venue, "POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "true"})
    assert (status, body["code"]) == (400, -1106) and "hedge mode" in body["msg"], body
