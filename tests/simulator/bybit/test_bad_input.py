"""Bad input gets Bybit's own error envelope and code, never a traceback or HTTP 500, and the venue keeps serving."""

from __future__ import annotations

from typing import Any

import aiohttp
import ccxt
import pytest

from simulator.server import RunningVenue
from tests.simulator.bybit import rawhttp

pytestmark = pytest.mark.virtual_time

ENVELOPE = {"retCode", "retMsg", "result", "retExtInfo", "time"}
ORDER = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.01"}


async def _still_serving(venue: RunningVenue) -> None:
    _, body = await rawhttp.post(venue, "/v5/order/create", ORDER)
    assert body["retCode"] == 0, body
    assert venue.venue.internal_errors == []


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ({**ORDER, "symbol": "NOPEUSDT"}, 10001, "symbol invalid"),
        ({**ORDER, "qty": "0.0015"}, 10001, "Qty invalid"),
        ({**ORDER, "symbol": "GIGAUSDT", "qty": "0.5"}, 10001, "Qty invalid"),
        ({**ORDER, "symbol": "GIGAUSDT", "qty": "100"}, 110094, "5"),
        ({**ORDER, "qty": "500"}, 10001, "maximum"),
        ({k: v for k, v in ORDER.items() if k != "side"}, 10001, "side"),
        ({k: v for k, v in ORDER.items() if k != "qty"}, 10001, "qty"),
        ({k: v for k, v in ORDER.items() if k != "category"}, 10001, "category"),
        ({**ORDER, "category": "spot"}, 10001, "category=spot"),
        ({**ORDER, "category": "futures"}, 10001, "Illegal category"),
        ({**ORDER, "side": "BUY"}, 10001, "side invalid"),
        ({**ORDER, "orderType": "Stop"}, 10001, "orderType invalid"),
        # A JSON number (or boolean) where Bybit documents a string is refused without naming the field.
        ({**ORDER, "qty": 0.01}, 10001, "Request parameter error."),
        ({**ORDER, "qty": "abc"}, 10001, "qty invalid"),
        ({**ORDER, "qty": True}, 10001, "Request parameter error."),
        ({**ORDER, "qty": "-1"}, 10001, "qty invalid"),
        ({**ORDER, "qty": "NaN"}, 10001, "qty invalid"),
        ({**ORDER, "reduceOnly": "true"}, 10001, "Request parameter error."),
        ({**ORDER, "triggerPrice": "65000", "triggerDirection": "1"}, 10001, "Request parameter error."),
        ({**ORDER, "orderType": "Limit"}, 10001, "price"),
        ({**ORDER, "orderType": "Limit", "price": "60000.05"}, 10001, "Price invalid"),
        ({**ORDER, "timeInForce": "GTD"}, 10001, "timeInForce invalid"),
        ({**ORDER, "triggerPrice": "65000"}, 10001, "triggerDirection"),
        ({**ORDER, "triggerPrice": "65000", "triggerDirection": 3}, 10001, "triggerDirection invalid"),
        ({**ORDER, "orderLinkId": "has spaces in it"}, 10001, "orderLinkId invalid"),
        ({**ORDER, "orderLinkId": "x" * 37}, 10001, "orderLinkId invalid"),
        ({**ORDER, "positionIdx": 1}, 10001, "position idx not match position mode"),
        ({**ORDER, "triggerBy": "MarkPrice", "triggerPrice": "65000", "triggerDirection": 1}, 10001, "doesn't (yet) support"),
        # Bybit quotes TP/SL prices scaled by 1e8 and trigger prices by 1e4.
        ({**ORDER, "stopLoss": "61000"}, 10001,
         "StopLoss:6100000000000 set for Buy position should lower than base_price:6000000000000??LastPrice"),
        ({**ORDER, "side": "Sell", "stopLoss": "59000"}, 10001, "set for Sell position should greater base_price"),
        ({**ORDER, "triggerPrice": "59000", "triggerDirection": 1}, 110092,
         "expect Rising, but trigger_price[590000000] <= current[600000000]??LastPrice"),
        ({**ORDER, "qty": "200"}, 10001, "too large, order_qty:20000000000 > max_qty:11900000000"),
    ],
)
async def test_order_create_refusals(bybit_venue: RunningVenue, body: dict[str, Any], code: int, text: str) -> None:
    status, answer = await rawhttp.post(bybit_venue, "/v5/order/create", body)
    assert status == 200 and set(answer) == ENVELOPE
    assert answer["retCode"] == code, answer
    assert text in answer["retMsg"]
    if code:
        assert answer["result"] == {}
    await _still_serving(bybit_venue)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1,2,3]", b"\xff\xfe\x00", b'"a string"', b"{\"category\": \"linear\""],
)
async def test_malformed_json_bodies(bybit_venue: RunningVenue, raw: bytes) -> None:
    status, answer = await rawhttp.post(bybit_venue, "/v5/order/create", raw)
    assert (status, answer["retCode"]) == (200, 10001)
    assert set(answer) == ENVELOPE
    await _still_serving(bybit_venue)


async def test_an_oversized_body_is_refused_with_a_params_error(bybit_venue: RunningVenue) -> None:
    huge = {**ORDER, "padding": "x" * (bybit_venue.venue.max_body_bytes + 10)}
    status, answer = await rawhttp.post(bybit_venue, "/v5/order/create", huge)
    assert (status, answer["retCode"]) == (200, 10001)
    assert "too large" in answer["retMsg"]
    await _still_serving(bybit_venue)


@pytest.mark.parametrize(
    ("path", "params", "code", "text"),
    [
        ("/v5/order/realtime", {"category": "linear"}, 10001, "symbol or settleCoin or baseCoin"),
        ("/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT", "limit": "x"}, 10001, "limit invalid"),
        ("/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT", "limit": "51"}, 10001, "limit invalid"),
        ("/v5/order/history", {"category": "linear", "symbol": "BTCUSDT", "orderStatus": "Done"}, 10001, "orderStatus"),
        ("/v5/position/list", {"category": "linear"}, 10001, "symbol or settleCoin"),
        ("/v5/position/list", {"category": "linear", "symbol": "NOPEUSDT"}, 10001, "symbol invalid"),
        ("/v5/account/wallet-balance", {"accountType": "CONTRACT"}, 10001, "UNIFIED"),
        ("/v5/account/wallet-balance", {}, 10001, "accountType"),
        ("/v5/execution/list", {"category": "linear", "execType": "Magic"}, 10001, "execType invalid"),
        ("/v5/market/tickers", {"category": "linear", "symbol": "NOPEUSDT"}, 10001, "params error: symbol invalid"),
        ("/v5/market/instruments-info", {"category": "linear", "symbol": "NOPEUSDT"}, 10001, "symbol invalid"),
    ],
)
async def test_query_refusals(bybit_venue: RunningVenue, path: str, params: dict[str, str], code: int, text: str) -> None:
    status, answer = await rawhttp.get(bybit_venue, path, params)
    assert status == 200 and set(answer) == ENVELOPE
    assert (answer["retCode"], text in answer["retMsg"]) == (code, True), answer
    await _still_serving(bybit_venue)


async def test_an_unknown_path_says_what_is_not_supported(bybit_venue: RunningVenue) -> None:
    status, answer = await rawhttp.get(bybit_venue, "/v5/spot-margin-trade/data", {})
    assert (status, answer["retCode"]) == (404, 10017) and set(answer) == ENVELOPE
    assert answer["retMsg"].startswith("Route not found.")
    assert "doesn't (yet) support GET /v5/spot-margin-trade/data" in answer["retMsg"]
    status, answer = await rawhttp.get(bybit_venue, "/v5/order/create", {})
    assert (status, answer["retCode"]) == (404, 10017)
    async with aiohttp.ClientSession() as session:
        async with session.put(f"{bybit_venue.base_url}/v5/order/create", data="{}") as response:
            put = await response.json()
    assert (response.status, put["retCode"], put["retMsg"]) == (200, 10001, "method error: Request parameter error.")
    await _still_serving(bybit_venue)


async def test_a_request_without_credentials_names_the_empty_headers(bybit_venue: RunningVenue) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bybit_venue.base_url}/v5/position/list?category=linear&settleCoin=USDT") as response:
            body = await response.json()
    assert (response.status, body["retCode"]) == (200, 10001)
    assert body["retMsg"] == "empty value: apiTimestamp[] apiKey[] apiSignature[]"


async def test_ccxt_sees_bad_symbols_and_bad_amounts_as_its_own_errors(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.load_markets()
    with pytest.raises(ccxt.BadRequest, match="10001"):
        await bybit_rest.private_post_v5_order_create({**ORDER, "symbol": "NOPEUSDT"})
    with pytest.raises(ccxt.InvalidOrder, match="110094"):
        await bybit_rest.create_order("GIGA/USDT:USDT", "market", "sell", 100)
    await _still_serving(bybit_venue)


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ({**ORDER, "stopLoss": "1e999999"}, "stopLoss invalid"),
        ({**ORDER, "qty": "1e30"}, "qty invalid"),
        ({**ORDER, "qty": " 1_0 "}, "qty invalid"),
        ({**ORDER, "qty": "9" * 5000}, "qty invalid"),
        ({**ORDER, "orderLinkId": "abc\n"}, "orderLinkId invalid"),
        ({**ORDER, "tpslMode": "\ud800"}, "doesn't (yet) support tpslMode"),
        ({**ORDER, "positionIdx": 10**30}, "positionIdx invalid"),
        ({**ORDER, "side": ["Buy"]}, "Request parameter error."),
        ({**ORDER, "side": {"nested": {"deeper": []}}}, "Request parameter error."),
    ],
)
async def test_hostile_values_get_params_errors(bybit_venue: RunningVenue, body: dict[str, Any], text: str) -> None:
    status, answer = await rawhttp.post(bybit_venue, "/v5/order/create", body)
    assert (status, answer["retCode"]) == (200, 10001), answer
    assert text in answer["retMsg"]
    await _still_serving(bybit_venue)


@pytest.mark.parametrize("raw", [b'{"qty": ' + b"9" * 5000 + b"}", b"[" * 30000, b'{"a": "\\ud800"'])
async def test_hostile_json_gets_a_params_error(bybit_venue: RunningVenue, raw: bytes) -> None:
    status, answer = await rawhttp.post(bybit_venue, "/v5/order/create", raw)
    assert (status, answer["retCode"], answer["retMsg"]) == (200, 10001, "Request parameter error.")
    await _still_serving(bybit_venue)


async def test_hostile_leverage_gets_an_error_not_a_crash(bybit_venue: RunningVenue) -> None:
    for value in ("1e999999", "9" * 40, "5.555"):
        status, answer = await rawhttp.post(bybit_venue, "/v5/position/set-leverage", {
            "category": "linear", "symbol": "BTCUSDT", "buyLeverage": value, "sellLeverage": value})
        assert (status, answer["retCode"]) == (200, 10001), answer
    await _still_serving(bybit_venue)


@pytest.mark.parametrize(
    "params",
    [{"openOnly": "--1"}, {"limit": "\u00b2"}, {"cursor": "\u00b2"}, {"cursor": "-3"}, {"limit": "9" * 5000}],
)
async def test_hostile_query_numbers_get_params_errors(bybit_venue: RunningVenue, params: dict[str, str]) -> None:
    status, answer = await rawhttp.get(bybit_venue, "/v5/order/realtime", {"category": "linear", "symbol": "BTCUSDT", **params})
    assert (status, answer["retCode"]) == (200, 10001), answer
    await _still_serving(bybit_venue)


async def test_hostile_auth_headers_get_auth_errors(bybit_venue: RunningVenue) -> None:
    query = "category=linear&symbol=BTCUSDT"
    good = rawhttp.headers(bybit_venue, query)
    cases = [({**good, "X-BAPI-RECV-WINDOW": "\u00b2"}, 10001), ({**good, "X-BAPI-SIGN": "\u00e9"}, 10004),
             ({**good, "X-BAPI-TIMESTAMP": "9" * 40}, 10001)]
    async with aiohttp.ClientSession() as session:
        for headers, code in cases:
            async with session.get(f"{bybit_venue.base_url}/v5/order/realtime?{query}", headers=headers) as response:
                answer = await response.json()
            assert (response.status, answer["retCode"]) == (200, code), answer
    await _still_serving(bybit_venue)
