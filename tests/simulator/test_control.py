from __future__ import annotations

import aiohttp

from simulator.server import RunningVenue


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
