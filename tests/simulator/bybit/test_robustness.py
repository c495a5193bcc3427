"""Generated bad input against every Bybit endpoint: Bybit's own envelope, never a simulator bug.

Each example builds a world (a venue with a long, its stop and a resting limit order), sends up to
three bent calls (``tests/simulator/junk.py``), correctly signed so they reach the handlers, and holds
the venue to what non-negotiable 4 says:
- every answer is Bybit's envelope, HTTP 200, with ``result`` empty when ``retCode`` is not 0;
- no handler raised (``internal_errors`` stays empty);
- a refused call changed nothing: the engine told its listeners of no change while it was handled;
- the venue still serves a valid call afterwards.
The same bent frames go to both WebSocket streams (the private one authenticated): every answer is
a JSON object, no handler raised, and a ping still gets its pong on the same connection.
The parametrized refusals in ``test_bad_input.py`` pin exact codes and messages; this looks for the
inputs nobody thought to write down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
from hypothesis import given
from hypothesis import strategies as st

from simulator.bybit.auth import sign
from simulator.bybit.handlers import ROUTES
from simulator.bybit.ws_connection import MAX_FRAME_BYTES
from simulator.server import RunningVenue
from simulator.simulation import simulation
from tests.simulator import junk
from tests.simulator.bybit import rawhttp
from tests.simulator.junk import Placeholder, Template

ENVELOPE = {"retCode", "retMsg", "result", "retExtInfo", "time"}
LINEAR = {"category": "linear", "symbol": "BTCUSDT"}
ORDER_ID = Placeholder("order_id")
LINK_ID = Placeholder("link_id")

TEMPLATES = (
    Template("GET", "/v5/market/time", {}),
    Template("GET", "/v5/market/instruments-info", LINEAR),
    Template("GET", "/v5/market/tickers", LINEAR),
    Template("GET", "/v5/market/orderbook", {**LINEAR, "limit": "5"}),
    Template("GET", "/v5/market/recent-trade", {**LINEAR, "limit": "5"}),
    Template("GET", "/v5/market/mark-price-kline", {**LINEAR, "interval": "1", "limit": "5"}),
    Template("GET", "/v5/market/index-price-kline", {**LINEAR, "interval": "D", "limit": "5"}),
    Template("GET", "/v5/market/risk-limit", LINEAR),
    Template("GET", "/v5/market/funding/history", {**LINEAR, "limit": "5"}),
    Template("GET", "/v5/market/kline", {**LINEAR, "interval": "1", "limit": "5"}),
    Template("GET", "/v5/market/kline", {**LINEAR, "interval": "W", "start": "1767225600000",
                                         "end": "1767830400000"}),
    Template("GET", "/v5/user/query-api", {}),
    Template("GET", "/v5/account/info", {}),
    Template("GET", "/v5/account/fee-rate", LINEAR),
    Template("GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED", "coin": "USDT"}),
    Template("POST", "/v5/account/set-margin-mode", {"setMarginMode": "REGULAR_MARGIN"}),
    Template("GET", "/v5/asset/coin/query-info", {"coin": "USDT"}),
    Template("POST", "/v5/order/create", {**LINEAR, "side": "Sell", "orderType": "Market", "qty": "0.01",
                                          "reduceOnly": True}),
    Template("POST", "/v5/order/create", {**LINEAR, "side": "Buy", "orderType": "Limit", "qty": "0.02",
                                          "price": "58000", "timeInForce": "GTC", "orderLinkId": "bent-1",
                                          "stopLoss": "50000", "takeProfit": "70000"}),
    Template("POST", "/v5/order/create", {**LINEAR, "side": "Sell", "orderType": "Market", "qty": "0.01",
                                          "triggerPrice": "55000", "triggerDirection": 2, "reduceOnly": True,
                                          "closeOnTrigger": True}),
    Template("POST", "/v5/order/create-batch", {"category": "linear", "request": [
        {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01", "price": "58000", "orderLinkId": "b-1"},
        {"symbol": "BTCUSDT", "side": "Sell", "orderType": "Market", "qty": "0.01", "reduceOnly": True}]}),
    Template("POST", "/v5/order/cancel", {**LINEAR, "orderId": ORDER_ID}),
    Template("POST", "/v5/order/cancel", {**LINEAR, "orderLinkId": LINK_ID}),
    Template("POST", "/v5/order/cancel-all", {**LINEAR, "orderFilter": "StopOrder"}),
    Template("POST", "/v5/order/amend", {**LINEAR, "orderId": ORDER_ID, "triggerPrice": "54000",
                                         "triggerBy": "LastPrice"}),
    Template("POST", "/v5/order/amend", {**LINEAR, "orderLinkId": LINK_ID, "qty": "0.02", "price": "58500"}),
    Template("GET", "/v5/order/realtime", {**LINEAR, "openOnly": "0", "limit": "20"}),
    Template("GET", "/v5/order/realtime", {**LINEAR, "orderId": ORDER_ID}),
    Template("GET", "/v5/order/history", {**LINEAR, "orderLinkId": LINK_ID, "limit": "20"}),
    Template("GET", "/v5/position/list", LINEAR),
    Template("POST", "/v5/position/set-leverage", {**LINEAR, "buyLeverage": "5", "sellLeverage": "5"}),
    Template("POST", "/v5/position/switch-mode", {**LINEAR, "mode": 0}),
    Template("POST", "/v5/position/trading-stop", {**LINEAR, "tpslMode": "Full", "stopLoss": "52000",
                                                   "positionIdx": 0}),
    Template("POST", "/v5/position/trading-stop", {**LINEAR, "tpslMode": "Partial", "stopLoss": "52000",
                                                   "slSize": "0.01", "positionIdx": 0}),
    Template("GET", "/v5/execution/list", {**LINEAR, "limit": "50"}),
)
# Every parameter name a handler reads, so edits reach the checks behind the first one.
VOCABULARY = (
    "accountType", "baseCoin", "end", "interval", "start", "buyLeverage", "category", "closeOnTrigger", "coin", "cursor", "endTime",
    "execType", "limit", "mode", "openOnly", "orderIv", "slLimitPrice", "tpLimitPrice", "orderFilter", "orderId", "orderLinkId", "orderStatus",
    "orderType", "positionIdx", "price", "qty", "reduceOnly", "sellLeverage", "settleCoin", "side", "slSize",
    "slTriggerBy", "startTime", "status", "stopLoss", "symbol", "takeProfit", "timeInForce", "tpSize",
    "tpTriggerBy", "tpslMode", "trailingStop", "triggerBy", "triggerDirection", "triggerPrice",
)
calls = junk.bent(TEMPLATES, VOCABULARY, junk.json_values)


def test_every_route_has_a_template() -> None:
    assert junk.untemplated(ROUTES, TEMPLATES) == set(), "a new endpoint needs a template here"


@junk.examples(150)
@given(bent=st.lists(calls, min_size=1, max_size=3))
def test_bent_calls_get_bybits_envelope_and_a_refusal_changes_nothing(bent: list[junk.Bent]) -> None:
    with simulation(seed=0) as sim:

        async def main() -> None:
            async with sim.serve_bybit() as venue:
                fill = await _world(venue)
                changes: list[object] = []
                venue.engine.subscribe(changes.append)
                async with aiohttp.ClientSession() as session:
                    for call in bent:
                        before = len(changes)
                        status, body = await _send(session, venue, call.template.method, call.template.path,
                                                   call.params(fill))
                        if body is None:
                            assert status == 400, (call, status)  # refused by the HTTP parser (junk.py)
                            continue
                        assert status == 200, (call, status, body)
                        assert set(body) == ENVELOPE and isinstance(body["retCode"], int), (call, body)
                        assert isinstance(body["retMsg"], str), (call, body)
                        assert venue.venue.internal_errors == [], (call, venue.venue.internal_errors)
                        if body["retCode"] != 0:
                            assert body["result"] == {}, (call, body)
                            assert changes[before:] == [], f"{call} was refused ({body['retMsg']}) yet changed " \
                                                           f"the venue: {changes[before:]}"
                    status, body = await _send(session, venue, "GET", "/v5/account/wallet-balance",
                                               {"accountType": "UNIFIED"})
                    assert (status, body["retCode"]) == (200, 0), body

        sim.run(main)


async def _world(venue: RunningVenue) -> dict[str, Any]:
    """A long with a stop, and a resting limit order; returns what placeholders stand for."""
    for body in (
        {**LINEAR, "side": "Buy", "orderType": "Market", "qty": "0.05"},
        {**LINEAR, "side": "Buy", "orderType": "Limit", "qty": "0.01", "price": "59000", "orderLinkId": "keep-1"},
        {**LINEAR, "side": "Sell", "orderType": "Market", "qty": "0.05", "triggerPrice": "55000",
         "triggerDirection": 2, "reduceOnly": True, "closeOnTrigger": True},
    ):
        _, answer = await rawhttp.post(venue, "/v5/order/create", body)
        assert answer["retCode"] == 0, answer
    return {"order_id": answer["result"]["orderId"], "link_id": "keep-1"}


async def _send(session: aiohttp.ClientSession, venue: RunningVenue, method: str, path: str,
                params: Mapping[str, Any]) -> tuple[int, Any]:
    """The status and the JSON answer; None for the answer when the request line was too long to parse."""
    if method == "POST":
        # NaN and Infinity go out as JSON's common extension; a lone surrogate as its escape.
        payload = json.dumps(params, separators=(",", ":"))
        data: bytes | None = payload.encode()
        url = f"{venue.base_url}{path}"
    else:
        # A query string is all text; a lone surrogate goes out as the bytes no UTF-8 decoder takes.
        text = {name: value if isinstance(value, str) else json.dumps(value) for name, value in params.items()}
        payload = urlencode(text, errors="surrogatepass")
        data = None
        path = path + (f"?{payload}" if payload else "")
        url = f"{venue.base_url}{path}"
    async with session.request(method, url, data=data, headers=rawhttp.headers(venue, payload)) as response:
        if junk.beyond_request_line(method, path):
            return response.status, None
        return response.status, await response.json(content_type=None)


# ---------------------------------------------------------------------- the WebSocket streams

FRAMES = (
    Template("WS", "/v5/private", {"op": "subscribe", "req_id": "s1", "args": ["order", "execution", "position"]}),
    Template("WS", "/v5/private", {"op": "unsubscribe", "req_id": "u1", "args": ["order"]}),
    Template("WS", "/v5/private", {"op": "auth", "args": [Placeholder("api_key"), Placeholder("expires"),
                                                          Placeholder("signature")]}),
    Template("WS", "/v5/private", {"op": "ping", "req_id": "p1"}),
    Template("WS", "/v5/public/linear", {"op": "subscribe", "req_id": "s2", "args": ["tickers.BTCUSDT"]}),
    Template("WS", "/v5/public/linear", {"op": "unsubscribe", "req_id": "u2", "args": ["tickers.BTCUSDT"]}),
    Template("WS", "/v5/public/linear", {"op": "subscribe", "req_id": "s3", "args": [
        "orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "kline.1.BTCUSDT"]}),
    Template("WS", "/v5/public/linear", {"op": "subscribe", "req_id": "s4", "args": ["orderbook.1.ETHUSDT", "kline.D.ETHUSDT"]}),
    Template("WS", "/v5/public/linear", {"op": "ping", "req_id": "p2"}),
)
frames = junk.bent(FRAMES, ("op", "req_id", "args"), junk.json_values)


@junk.examples(100)
@given(bent=st.lists(frames, min_size=1, max_size=3))
def test_bent_frames_get_answers_and_the_connection_serves_on(bent: list[junk.Bent]) -> None:
    with simulation(seed=0) as sim:

        async def main() -> None:
            async with sim.serve_bybit() as venue:
                async with aiohttp.ClientSession() as session:
                    sockets = {path: await _stream(session, venue, path) for path in ("/v5/private", "/v5/public/linear")}
                    expires = venue.engine.now_ms() + 10_000
                    fill = {"api_key": venue.api_key, "expires": expires,
                            "signature": sign(venue.api_secret, f"GET/realtime{expires}")}
                    for frame in bent:
                        ws = sockets[frame.template.path]
                        text = json.dumps(frame.params(fill))
                        await ws.send_str(text)
                        if len(text.encode()) > MAX_FRAME_BYTES:  # past the frame limit: closed as too big
                            closed = await ws.receive(timeout=5)
                            assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 1009), (len(text), closed)
                            sockets[frame.template.path] = await _stream(session, venue, frame.template.path)
                            continue  # ... and a new connection is served
                        for reply in await _until_pong(ws):
                            assert isinstance(reply, dict), (frame, reply)
                            if "success" in reply:
                                assert isinstance(reply["success"], bool) and isinstance(reply.get("ret_msg"), str), \
                                    (frame, reply)
                        assert venue.venue.internal_errors == [], (frame, venue.venue.internal_errors)

        sim.run(main)


async def _stream(session: aiohttp.ClientSession, venue: RunningVenue, path: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(venue.base_url.replace("http", "ws") + path)
    if path == "/v5/private":
        expires = venue.engine.now_ms() + 10_000
        await ws.send_json({"op": "auth", "args": [venue.api_key, expires, sign(venue.api_secret, f"GET/realtime{expires}")]})
        assert (await ws.receive_json(timeout=5))["success"] is True
    return ws


async def _until_pong(ws: aiohttp.ClientWebSocketResponse) -> list[Any]:
    """Every frame the venue sent up to the answer to a ping sent now: the connection still serves."""
    await ws.send_json({"op": "ping", "req_id": "alive"})
    replies = []
    while True:
        reply = await ws.receive_json(timeout=5)
        if isinstance(reply, dict) and reply.get("req_id") == "alive":
            return replies
        replies.append(reply)
