"""Generated bad input against every Binance USD-M endpoint: Binance's own answer, never a simulator bug.

Each example builds a world (a venue with a long, its algo stop and a resting limit order), sends up
to three bent calls (``tests/simulator/junk.py``), signed as ccxt signs them (the timestamp and the
receive window are parameters like any other, so edits reach them too), and holds the venue to
non-negotiable 4:
- a refusal is ``{"code": <negative>, "msg": ...}`` with a 4xx status, and nothing else;
- no handler raised (``internal_errors`` stays empty);
- a refused call changed nothing: the engine told its listeners of no change while it was handled;
- the venue still serves a valid call afterwards.
Bent requests on a market stream each get a result or Binance's error object, no handler raises, and
the connection still answers. ``test_bad_input.py`` pins exact codes; this looks for the inputs
nobody thought to write down.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
from hypothesis import given
from hypothesis import strategies as st

from simulator.binance.handlers import ROUTES
from simulator.bybit.ws_connection import MAX_FRAME_BYTES
from simulator.server import RunningBinance
from simulator.simulation import simulation
from tests.simulator import junk
from tests.simulator.junk import Placeholder, Template

BTC = {"symbol": "BTCUSDT"}
NOW = Placeholder("now")
ORDER_ID = Placeholder("order_id")
ALGO_ID = Placeholder("algo_id")
SIGNED = {"timestamp": NOW, "recvWindow": "10000"}


def _t(method: str, path: str, params: Mapping[str, Any], *, signed: bool = True) -> Template:
    return Template(method, path, {**params, **SIGNED} if signed else dict(params))


TEMPLATES = (
    _t("GET", "/fapi/v1/exchangeInfo", {}, signed=False),
    _t("GET", "/fapi/v1/time", {}, signed=False),
    _t("GET", "/fapi/v1/ping", {}, signed=False),
    _t("GET", "/fapi/v1/ticker/price", BTC, signed=False),
    _t("GET", "/fapi/v2/ticker/price", BTC, signed=False),
    _t("GET", "/fapi/v1/premiumIndex", BTC, signed=False),
    _t("GET", "/fapi/v1/ticker/24hr", BTC, signed=False),
    _t("GET", "/fapi/v1/trades", {**BTC, "limit": "5"}, signed=False),
    _t("GET", "/fapi/v1/aggTrades", {**BTC, "limit": "5", "fromId": "1"}, signed=False),
    _t("GET", "/fapi/v1/markPriceKlines", {**BTC, "interval": "1m", "limit": "5"}, signed=False),
    _t("GET", "/fapi/v1/indexPriceKlines", {"pair": "BTCUSDT", "interval": "1h", "limit": "5"}, signed=False),
    _t("GET", "/fapi/v1/fundingRate", {**BTC, "limit": "5"}, signed=False),
    _t("GET", "/fapi/v1/income", {**BTC, "incomeType": "FUNDING_FEE", "limit": "5"}),
    _t("GET", "/fapi/v1/ticker/bookTicker", BTC, signed=False),
    _t("GET", "/fapi/v1/depth", {**BTC, "limit": "5"}, signed=False),
    _t("POST", "/fapi/v1/order", {**BTC, "side": "SELL", "type": "MARKET", "quantity": "0.01",
                                  "reduceOnly": "true", "newOrderRespType": "RESULT"}),
    _t("POST", "/fapi/v1/order", {**BTC, "side": "BUY", "type": "LIMIT", "quantity": "0.02", "price": "58000",
                                  "timeInForce": "GTC", "newClientOrderId": "bent-1", "positionSide": "BOTH"}),
    _t("GET", "/fapi/v1/klines", {**BTC, "interval": "1m", "limit": "5", "startTime": "1767225600000"}),
    _t("GET", "/fapi/v1/commissionRate", BTC),
    _t("POST", "/fapi/v1/batchOrders", {"batchOrders": '[{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT",'
                                        '"quantity":"0.01","price":"58000","timeInForce":"GTC"}]'}),
    _t("GET", "/fapi/v1/order", {**BTC, "orderId": ORDER_ID}),
    _t("DELETE", "/fapi/v1/order", {**BTC, "origClientOrderId": "keep-1"}),
    _t("PUT", "/fapi/v1/order", {**BTC, "orderId": ORDER_ID, "side": "BUY", "quantity": "0.02", "price": "58500"}),
    _t("GET", "/fapi/v1/openOrder", {**BTC, "orderId": ORDER_ID}),
    _t("GET", "/fapi/v1/openOrders", BTC),
    _t("GET", "/fapi/v1/allOrders", {**BTC, "orderId": ORDER_ID, "limit": "50"}),
    _t("DELETE", "/fapi/v1/allOpenOrders", BTC),
    _t("GET", "/fapi/v1/userTrades", {**BTC, "startTime": "1767225000000", "limit": "50"}),
    _t("POST", "/fapi/v1/algoOrder", {**BTC, "algoType": "CONDITIONAL", "side": "SELL", "type": "STOP_MARKET",
                                      "quantity": "0.01", "triggerPrice": "55000", "reduceOnly": "true",
                                      "workingType": "CONTRACT_PRICE", "clientAlgoId": "bent-algo"}),
    _t("POST", "/fapi/v1/algoOrder", {**BTC, "algoType": "CONDITIONAL", "side": "SELL", "type": "TAKE_PROFIT",
                                      "price": "70000", "triggerPrice": "69000", "closePosition": "true",
                                      "timeInForce": "GTC"}),
    _t("GET", "/fapi/v1/algoOrder", {"algoId": ALGO_ID}),
    _t("DELETE", "/fapi/v1/algoOrder", {"clientAlgoId": "keep-algo"}),
    _t("GET", "/fapi/v1/openAlgoOrders", BTC),
    _t("DELETE", "/fapi/v1/algoOpenOrders", BTC),
    _t("GET", "/fapi/v2/balance", {}),
    _t("GET", "/fapi/v3/balance", {}),
    _t("GET", "/fapi/v2/account", {}),
    _t("GET", "/fapi/v3/account", {}),
    _t("GET", "/fapi/v2/positionRisk", BTC),
    _t("GET", "/fapi/v3/positionRisk", BTC),
    _t("GET", "/fapi/v1/leverageBracket", BTC),
    _t("GET", "/fapi/v1/symbolConfig", BTC),
    _t("GET", "/fapi/v1/accountConfig", {}),
    _t("GET", "/fapi/v1/multiAssetsMargin", {}),
    _t("POST", "/fapi/v1/leverage", {**BTC, "leverage": "5"}),
    _t("POST", "/fapi/v1/marginType", {**BTC, "marginType": "CROSSED"}),
    _t("GET", "/fapi/v1/positionSide/dual", {}),
    _t("POST", "/fapi/v1/positionSide/dual", {"dualSidePosition": "false"}),
    _t("POST", "/fapi/v1/listenKey", {}, signed=False),
    _t("PUT", "/fapi/v1/listenKey", {}, signed=False),
    _t("DELETE", "/fapi/v1/listenKey", {}, signed=False),
)
VOCABULARY = (
    "algoId", "algoType", "clientAlgoId", "closePosition", "dualSidePosition", "endTime", "leverage", "limit",
    "marginType", "newClientOrderId", "newOrderRespType", "orderId", "origClientOrderId", "positionSide",
    "price", "quantity", "recvWindow", "reduceOnly", "side", "startTime", "symbol", "timeInForce", "timestamp",
    "triggerPrice", "type", "workingType", "priceProtect", "stopPrice", "signature", "priceMatch", "interval",
)
# Everything a Binance client sends is text.
calls = junk.bent(TEMPLATES, VOCABULARY, junk.texts)


def test_every_route_has_a_template() -> None:
    assert junk.untemplated(ROUTES, TEMPLATES) == set(), "a new endpoint needs a template here"


@junk.examples(150)
@given(bent=st.lists(st.tuples(calls, st.booleans()), min_size=1, max_size=3))
def test_bent_calls_get_binances_answer_and_a_refusal_changes_nothing(bent: list[tuple[junk.Bent, bool]]) -> None:
    with simulation(seed=0) as sim:

        async def main() -> None:
            async with sim.serve_binance() as venue:
                async with aiohttp.ClientSession() as session:
                    fill = await _world(session, venue)
                    changes: list[object] = []
                    venue.engine.subscribe(changes.append)
                    for call, in_body in bent:
                        before = len(changes)
                        params = call.params({**fill, "now": str(venue.engine.now_ms())})
                        status, body = await _send(session, venue, call.template.method, call.template.path,
                                                   params, in_body=in_body)
                        assert venue.venue.internal_errors == [], (call, venue.venue.internal_errors)
                        if body is None:
                            assert status == 400, (call, status)  # refused by the HTTP parser (junk.py)
                            continue
                        if status != 200:
                            assert 400 <= status < 500, (call, status, body)
                            assert isinstance(body, dict) and set(body) == {"code", "msg"}, (call, body)
                            assert isinstance(body["code"], int) and body["code"] < 0, (call, body)
                            assert isinstance(body["msg"], str), (call, body)
                            assert changes[before:] == [], f"{call} was refused ({body}) yet changed the venue: " \
                                                           f"{changes[before:]}"
                    status, body = await _send(session, venue, "GET", "/fapi/v3/account",
                                               {"timestamp": str(venue.engine.now_ms())})
                    assert status == 200, body

        sim.run(main)


async def _world(session: aiohttp.ClientSession, venue: RunningBinance) -> dict[str, Any]:
    """A long with an algo stop, and a resting limit order; returns what placeholders stand for."""
    found: dict[str, Any] = {}
    for path, params, key, name in (
        ("/fapi/v1/order", {**BTC, "side": "BUY", "type": "MARKET", "quantity": "0.05"}, None, None),
        ("/fapi/v1/order", {**BTC, "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "59000",
                            "timeInForce": "GTC", "newClientOrderId": "keep-1"}, "orderId", "order_id"),
        ("/fapi/v1/algoOrder", {**BTC, "algoType": "CONDITIONAL", "side": "SELL", "type": "STOP_MARKET",
                                "triggerPrice": "55000", "closePosition": "true", "clientAlgoId": "keep-algo"},
         "algoId", "algo_id"),
    ):
        status, answer = await _send(session, venue, "POST", path,
                                     {**params, "timestamp": str(venue.engine.now_ms())})
        assert status == 200, answer
        if name:
            found[name] = str(answer[key])
    return found


async def _send(session: aiohttp.ClientSession, venue: RunningBinance, method: str, path: str,
                params: Mapping[str, str], *, in_body: bool = False) -> tuple[int, Any]:
    """The status and the JSON answer; None for the answer when the request line was too long to parse."""
    # As ccxt signs: HMAC over the parameters as sent, the signature appended last. A lone surrogate
    # goes out as the bytes no UTF-8 decoder takes.
    text = urlencode(params, errors="surrogatepass")
    signed = f"{text}&signature={hmac.new(venue.api_secret.encode(), text.encode(), hashlib.sha256).hexdigest()}"
    url = f"{venue.base_url}{path}"
    headers = {"X-MBX-APIKEY": venue.api_key}
    if in_body and method != "GET":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        request, path_qs = session.request(method, url, data=signed.encode(), headers=headers), path
    else:
        request, path_qs = session.request(method, f"{url}?{signed}", headers=headers), f"{path}?{signed}"
    async with request as response:
        if junk.beyond_request_line(method, path_qs):
            return response.status, None
        return response.status, await response.json(content_type=None)


# ---------------------------------------------------------------------- the market streams

FRAMES = (
    Template("WS", "/market/ws", {"method": "SUBSCRIBE", "params": ["btcusdt@miniTicker"], "id": 1}),
    Template("WS", "/market/ws", {"method": "UNSUBSCRIBE", "params": ["btcusdt@miniTicker"], "id": 2}),
    Template("WS", "/market/ws", {"method": "LIST_SUBSCRIPTIONS", "id": 3}),
    Template("WS", "/market/ws", {"method": "SUBSCRIBE", "params": [
        "btcusdt@depth", "btcusdt@depth10@100ms", "btcusdt@aggTrade", "btcusdt@trade", "btcusdt@kline_1m",
        "btcusdt@bookTicker"], "id": 4}),
)
frames = junk.bent(FRAMES, ("method", "params", "id"), junk.json_values)


@junk.examples(100)
@given(bent=st.lists(frames, min_size=1, max_size=3))
def test_bent_frames_get_answers_and_the_connection_serves_on(bent: list[junk.Bent]) -> None:
    with simulation(seed=0) as sim:

        async def main() -> None:
            async with sim.serve_binance() as venue:
                async with aiohttp.ClientSession() as session:
                    ws = await session.ws_connect(venue.base_url.replace("http", "ws") + "/market/ws")
                    for frame in bent:
                        text = json.dumps(frame.params({}))
                        await ws.send_str(text)
                        if len(text.encode()) > MAX_FRAME_BYTES:  # past the frame limit: closed as too big
                            closed = await ws.receive(timeout=5)
                            assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 1009), (len(text), closed)
                            ws = await session.ws_connect(venue.base_url.replace("http", "ws") + "/market/ws")
                            continue  # ... and a new connection is served
                        # Binance answers every request with its id and a result or an error.
                        await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": "alive"})
                        while (reply := await ws.receive_json(timeout=5)).get("id") != "alive":
                            assert isinstance(reply, dict) and ("result" in reply or "error" in reply), (frame, reply)
                            if "error" in reply:
                                assert isinstance(reply["error"].get("code"), int), (frame, reply)
                                assert isinstance(reply["error"].get("msg"), str), (frame, reply)
                        assert isinstance(reply["result"], list), reply
                        assert venue.venue.internal_errors == [], (frame, venue.venue.internal_errors)

        sim.run(main)
