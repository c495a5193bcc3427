from __future__ import annotations

import json
from typing import Any

import aiohttp
import ccxt
import pytest

from simulator.server import RunningVenue, serve_bybit


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
