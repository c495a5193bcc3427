from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import ccxt
import pytest
import pytest_asyncio

from simulator.server import RunningVenue, serve_binance, serve_bybit


async def _post(venue: RunningVenue, path: str, body: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{venue.base_url}{path}", data=body) as response:
            return response.status, await response.json()


async def test_price_control_moves_the_market(bybit_venue: RunningVenue) -> None:
    status, body = await _post(bybit_venue, "/sim/price", '{"symbol": "GIGAUSDT", "price": "0.02"}')
    assert (status, body) == (200, {"symbol": "GIGAUSDT", "price": "0.02"})
    assert str(bybit_venue.engine.market("GIGAUSDT").last_price) == "0.02"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bybit_venue.base_url}/sim/state") as response:
            state = await response.json()
    assert state["prices"]["GIGAUSDT"] == "0.02"


async def test_price_control_errors_say_the_fix(bybit_venue: RunningVenue) -> None:
    for body, text in [
        ("nope", "expected a JSON body"),
        ('{"symbol": "BTCUSDT"}', "expected a JSON body"),
        ('{"symbol": "BTCUSDT", "price": "-3"}', "positive"),
        ('{"symbol": "NOPEUSDT", "price": "3"}', "listed: ['BTCUSDT', 'ETHUSDT', 'GIGAUSDT']"),
    ]:
        status, answer = await _post(bybit_venue, "/sim/price", body)
        assert status == 400 and text in str(answer["error"]), answer


async def test_price_control_refuses_prices_off_the_tick_grid(bybit_venue: RunningVenue) -> None:
    for price in ("60000.05", "1e30"):
        status, answer = await _post(bybit_venue, "/sim/price", f'{{"symbol": "BTCUSDT", "price": "{price}"}}')
        assert status == 400 and "tick grid" in str(answer["error"]), answer
    assert str(bybit_venue.engine.market("BTCUSDT").last_price) == "60000.0"


async def test_faults_are_planned_listed_and_cleared_over_http(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    fault = {"name": "entry answer lost", "method": "POST", "path": "/v5/order/create", "effect": "drop-after-apply"}
    status, answer = await _post(bybit_venue, "/sim/faults", json.dumps(fault))
    assert status == 200 and answer["added"]["name"] == "entry answer lost"

    await bybit_rest.load_markets()
    with pytest.raises(ccxt.NetworkError):
        await bybit_rest.create_order("GIGA/USDT:USDT", "market", "sell", 920)
    assert len(bybit_venue.engine.orders.all_for(bybit_venue.account.account_id)) == 1  # applied all the same

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{bybit_venue.base_url}/sim/faults") as response:
            assert [f["name"] for f in (await response.json())["faults"]] == ["entry answer lost"]
        async with session.delete(f"{bybit_venue.base_url}/sim/faults") as response:
            assert (await response.json()) == {"cleared": 1}


@pytest.mark.parametrize(("body", "message"), [
    ('{"name": "x", "effect": "explode"}', "effect = 'explode'"),
    ('{"name": "x", "method": "POST", "path": "/p", "effect": "http"}', "'status' is required"),
    ('{"name": "x", "effect": "drop-frame", "bogus": 1}', "unknown key(s) ['bogus']"),
    ("[1, 2]", "expected a JSON object"),
])
async def test_a_bad_fault_is_refused_with_the_reason(bybit_venue: RunningVenue, body: str, message: str) -> None:
    status, answer = await _post(bybit_venue, "/sim/faults", body)
    assert status == 400 and message in answer["error"]


async def test_with_a_token_the_control_routes_refuse_requests_without_it() -> None:
    async with serve_bybit(control_token="s3cret") as venue, aiohttp.ClientSession() as session:
        async with session.get(f"{venue.base_url}/sim/state") as response:
            assert response.status == 401
        async with session.get(f"{venue.base_url}/sim/state", headers={"X-Sim-Token": "s3cret"}) as response:
            assert response.status == 200


async def _get(venue: Any, path: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{venue.base_url}{path}") as response:
            return response.status, await response.json()


async def test_state_lists_orders_and_the_trace_reads_from_a_record_on(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.load_markets()
    order = await bybit_rest.create_order("GIGA/USDT:USDT", "market", "sell", 920)

    _, state = await _get(bybit_venue, "/sim/state")
    [listed] = state["orders"]
    assert (listed["order_id"], listed["status"], listed["filled"], listed["side"]) == (
        order["id"], "Filled", "920", "Sell")

    status, whole = await _get(bybit_venue, "/sim/trace")
    assert status == 200 and whole["next"] == len(whole["records"]) > 0
    assert any(r["kind"] == "execution" for r in whole["records"])
    _, tail = await _get(bybit_venue, f"/sim/trace?since={whole['next'] - 1}")
    assert [r["seq"] for r in tail["records"]][0] == whole["next"] - 1
    status, refused = await _get(bybit_venue, "/sim/trace?since=x")
    assert status == 400 and "since must be a record number" in refused["error"]


async def test_the_trace_route_says_how_to_get_a_trace() -> None:
    async with serve_bybit() as venue:
        status, answer = await _get(venue, "/sim/trace")
    assert status == 400 and "--trace" in answer["error"]


async def test_one_fault_is_removed_by_name(bybit_venue: RunningVenue) -> None:
    for name in ("a", "b"):
        fault = {"name": name, "method": "GET", "path": "/v5/market/time", "effect": "drop-before-apply"}
        await _post(bybit_venue, "/sim/faults", json.dumps(fault))
    async with aiohttp.ClientSession() as session:
        async with session.delete(f"{bybit_venue.base_url}/sim/faults?name=a") as response:
            assert (response.status, await response.json()) == (200, {"cleared": 1})
        async with session.delete(f"{bybit_venue.base_url}/sim/faults?name=a") as response:
            assert response.status == 400 and "planned: ['b']" in (await response.json())["error"]
    assert [f.name for f in bybit_venue.faults.faults] == ["b"]


async def test_binance_listen_keys_lapse_over_http(binance_venue: Any) -> None:
    pro = binance_venue.pro_client()
    await pro.load_markets()
    watching = asyncio.ensure_future(pro.watch_orders())
    await asyncio.wait_for(binance_venue.venue.streams.wait_listening(binance_venue.account.account_id), 10)

    status, answer = await _post(binance_venue, "/sim/listen-keys/lapse", "")

    assert (status, answer) == (200, {"lapsed": 1})
    assert not binance_venue.venue.streams.listening(binance_venue.account.account_id)
    watching.cancel()


EVERY_EFFECT = [
    {"method": "POST", "path": "/x", "effect": "drop-before-apply"},
    {"method": "POST", "path": "/x", "effect": "drop-after-apply"},
    {"method": "POST", "path": "/x", "effect": "http", "status": 502, "body": "<html>502</html>"},
    {"method": "POST", "path": "/x", "effect": "answer-after-apply", "status": 200, "body": "{}"},
    {"method": "POST", "path": "/x", "effect": "latency", "delay_ms": 500, "jitter_ms": 100},
    {"method": "POST", "path": "/x", "effect": "truncated-answer", "keep_bytes": 10},
    {"method": "*", "path": "*", "effect": "answer", "answer": "gateway-page", "status": 503, "start_ms": 0,
     "end_ms": 60_000},
    {"method": "POST", "path": "/x", "effect": "answer", "answer": "binance-unknown-outcome", "applied": True},
    {"method": "POST", "path": "/x", "effect": "answer", "answer": "bybit-ip-banned", "probability": 0.5},
    {"stream": "/s", "effect": "drop-frame"},
    {"stream": "/s", "topic": "order", "effect": "delay-frame", "delay_ms": 100},
    {"stream": "/s", "effect": "close-stream"},
    {"stream": "/s", "effect": "abort-stream"},
    {"stream": "/s", "effect": "duplicate-frame"},
    {"stream": "/s", "topic": "auth", "effect": "replace-frame", "frame": "{}"},
    {"queries": "orders", "effect": "visibility-lag", "lag_ms": 1000},
    {"queries": "positions", "effect": "position-lag", "lag_ms": 1000},
    {"symbol": "BTCUSDT", "effect": "liquidity-cap", "qty": "0.001"},
]


@pytest_asyncio.fixture(params=["bybit", "binance"])
async def any_venue(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    async with (serve_bybit() if request.param == "bybit" else serve_binance()) as venue:
        yield venue


async def test_every_effect_is_reachable_over_the_control_api(any_venue: Any) -> None:
    venue = any_venue
    for n, table in enumerate(EVERY_EFFECT):
        status, answer = await _post(venue, "/sim/faults", json.dumps({"name": f"f{n}", **table}))
        assert status == 200, (table, answer)
    _, listed = await _get(venue, "/sim/faults")
    assert len(listed["faults"]) == len(EVERY_EFFECT)
    effects = {f["effect"].split("(")[0] for f in listed["faults"]}
    assert {"DropBeforeApply", "DropAfterApply", "HttpAnswer", "AnswerAfterApply", "Latency", "TruncatedAnswer",
            "DropFrame", "DelayFrame", "CloseStream", "AbortStream", "DuplicateFrame", "ReplaceFrame",
            "VisibilityLag", "PositionLag", "LiquidityCap"} == effects


async def test_a_venue_wide_fault_leaves_the_control_routes_working(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    maintenance = {"name": "maintenance", "method": "*", "path": "*", "effect": "answer", "answer": "gateway-page",
                   "status": 503}
    assert (await _post(bybit_venue, "/sim/faults", json.dumps(maintenance)))[0] == 200
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await bybit_rest.fetch_time()

    async with aiohttp.ClientSession() as session:
        async with session.delete(f"{bybit_venue.base_url}/sim/faults") as response:
            assert (response.status, await response.json()) == (200, {"cleared": 1})
    assert await bybit_rest.fetch_time() > 0


async def test_reading_the_trace_adds_nothing_to_it(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.fetch_time()
    _, first = await _get(bybit_venue, "/sim/trace")
    _, second = await _get(bybit_venue, f"/sim/trace?since={first['next']}")

    assert second == {"records": [], "next": first["next"]}  # control calls are not venue traffic
    assert not any(r["fields"].get("path", "").startswith("/sim/") for r in first["records"])


async def test_the_closed_order_window_is_set_over_http(bybit_venue: RunningVenue, bybit_rest: Any) -> None:
    await bybit_rest.load_markets()
    first = await bybit_rest.create_order("GIGA/USDT:USDT", "market", "sell", 920)
    second = await bybit_rest.create_order("GIGA/USDT:USDT", "market", "buy", 920, None, {"reduceOnly": True})

    assert await _post(bybit_venue, "/sim/closed-order-window", '{"size": 1}') == (200, {"size": 1})

    with pytest.raises(ccxt.OrderNotFound):  # out of the real-time window: history only
        await bybit_rest.fetch_order(first["id"], "GIGA/USDT:USDT", {"acknowledged": True})
    assert (await bybit_rest.fetch_order(second["id"], "GIGA/USDT:USDT", {"acknowledged": True}))["id"] == second["id"]
    assert (await bybit_rest.fetch_closed_order(first["id"], "GIGA/USDT:USDT"))["id"] == first["id"]
    status, refused = await _post(bybit_venue, "/sim/closed-order-window", '{"size": -1}')
    assert status == 400 and "whole number >= 0" in refused["error"]


async def test_an_absurd_closed_order_window_is_refused(bybit_venue: RunningVenue) -> None:
    status, refused = await _post(bybit_venue, "/sim/closed-order-window", '{"size": 9223372036854775808}')
    assert status == 400 and "must be 0 to 1000000" in refused["error"]
    assert bybit_venue.engine.orders.closed_window == 500
