"""Our answers against real Bybit responses recorded by ccxt's maintainers (tests/fixtures).

Each check: every field the real venue sent is present in ours with the same JSON kind,
and the ccxt under test parses ours and the recorded item into the same unified fields
(None exactly where the real one gives None). The fixtures' own ``parsedResponse`` came
from an older ccxt, so the recorded item is re-parsed rather than trusted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from simulator.bybit.auth import sign
from simulator.server import RunningVenue

pytestmark = pytest.mark.virtual_time

FIXTURES = Path(__file__).parents[2] / "fixtures"
RECORDED = json.loads((FIXTURES / "bybit_linear_subset.json").read_text())["methods"]
WS_EXAMPLES = json.loads((FIXTURES / "bybit_ws_examples.json").read_text())
BTC = "BTC/USDT:USDT"


def _case(method: str, description: str | None = None) -> dict[str, Any]:
    for case in RECORDED[method]:
        if description is None or case["description"] == description:
            return case
    raise KeyError(f"no recorded {method} case {description!r}")


def _kind(value: Any) -> str:
    # The fixtures store JSON numbers as strings (see their README); compare the rest exactly.
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "scalar"


def assert_same_shape(
    ours: dict[str, Any], real: dict[str, Any], where: str, *, any_kind: frozenset[str] = frozenset()
) -> None:
    missing = sorted(set(real) - set(ours) - {"nextPageCursor"})
    assert not missing, f"{where}: fields the real venue sends that we do not: {missing}"
    kinds = {k: (_kind(ours[k]), _kind(v)) for k, v in real.items() if k in ours and k not in any_kind}
    wrong = {k: pair for k, pair in kinds.items() if pair[0] != pair[1]}
    assert not wrong, f"{where}: JSON kinds differ (ours, real): {wrong}"


def assert_parsed_alike(
    ours: dict[str, Any], real: dict[str, Any], where: str, ignore: frozenset[str] = frozenset()
) -> None:
    differ = sorted(
        k for k in real if k not in ignore and k != "info" and (ours.get(k) is None) != (real[k] is None)
    )
    assert not differ, f"{where}: ccxt fills these differently (None vs value): {differ}"


async def test_open_order(bybit_rest: Any) -> None:
    created = await bybit_rest.create_order(BTC, "limit", "buy", 0.001, 50000)
    ours = await bybit_rest.fetch_open_order(created["id"], BTC)
    real = _case("fetchOpenOrder")["httpResponse"]["result"]["list"][0]
    assert_same_shape(ours["info"], real, "open order")
    assert_parsed_alike(ours, bybit_rest.parse_order(real), "open order")


async def test_closed_orders(bybit_rest: Any) -> None:
    created = await bybit_rest.create_order(BTC, "market", "buy", 0.001)
    ours = await bybit_rest.fetch_closed_order(created["id"], BTC)
    real = _case("fetchClosedOrder")["httpResponse"]["result"]["list"][0]
    assert_same_shape(ours["info"], real, "closed order")
    assert_parsed_alike(ours, bybit_rest.parse_order(real), "closed order")
    response = await bybit_rest.private_get_v5_order_history({"category": "linear", "symbol": "BTCUSDT"})
    assert set(response) == set(_case("fetchClosedOrders")["httpResponse"])
    assert set(response["result"]) == set(_case("fetchClosedOrders")["httpResponse"]["result"])


# The recording predates curRealisedPnl, which current Bybit sends (and ccxt reads) on every row;
# and its symbol (LTCUSDT) is not listed here, so ccxt cannot resolve that market's contract size.
POSITION_GAPS = frozenset({"realizedPnl", "contractSize"})


async def test_positions(bybit_rest: Any) -> None:
    flat = await bybit_rest.fetch_position(BTC)
    real_flat = _case("fetchPosition")["httpResponse"]["result"]["list"][0]
    assert_same_shape(flat["info"], real_flat, "flat position")
    assert_parsed_alike(flat, bybit_rest.parse_position(real_flat), "flat position", ignore=POSITION_GAPS)
    await bybit_rest.create_order(BTC, "market", "buy", 0.001)
    (open_,) = await bybit_rest.fetch_positions([BTC])
    real = _case("fetchPositions")["httpResponse"]["result"]["list"][0]
    assert_same_shape(open_["info"], real, "position")
    assert_parsed_alike(open_, bybit_rest.parse_position(real), "position", ignore=POSITION_GAPS)


async def test_my_trades(bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "market", "buy", 0.001)
    (ours,) = await bybit_rest.fetch_my_trades()
    real = _case("fetchMyTrades", "swap trades without symbol")["httpResponse"]["result"]["list"][0]
    assert_same_shape(ours["info"], real, "execution")
    assert_parsed_alike(ours, bybit_rest.parse_trade(real), "execution")


async def test_balance(bybit_rest: Any) -> None:
    ours = await bybit_rest.fetch_balance()
    real = _case("fetchBalance")["httpResponse"]["result"]["list"][0]
    row = ours["info"]["result"]["list"][0]
    assert_same_shape({k: v for k, v in row.items() if k != "coin"}, {k: v for k, v in real.items() if k != "coin"}, "account")
    real_usdt = next(c for c in real["coin"] if c["coin"] == "USDT")
    assert_same_shape(row["coin"][0], real_usdt, "USDT coin")


async def test_ticker(bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "market", "buy", 0.001)  # some volume, so ccxt can derive a vwap
    ours = await bybit_rest.fetch_ticker(BTC)
    real = _case("fetchTicker")["httpResponse"]["result"]["list"][0]
    assert_same_shape(ours["info"], real, "ticker")
    assert_parsed_alike(ours, bybit_rest.parse_ticker(real), "ticker")


async def test_stream_pushes_carry_every_documented_field(bybit_venue: RunningVenue) -> None:
    from decimal import Decimal

    from simulator.engine import OrderRequest, OrderType, Side, Symbol

    ws_url = bybit_venue.base_url.replace("http", "ws")
    async with aiohttp.ClientSession() as session:
        private = await session.ws_connect(ws_url + "/v5/private")
        expires = bybit_venue.engine.now_ms() + 10_000
        await private.send_json(
            {"op": "auth", "args": [bybit_venue.api_key, expires, sign(bybit_venue.api_secret, f"GET/realtime{expires}")]}
        )
        await private.receive_json()
        await private.send_json({"op": "subscribe", "args": ["order", "execution", "position", "wallet"]})
        await private.receive_json()
        public = await session.ws_connect(ws_url + "/v5/public/linear")
        await public.send_json({"op": "subscribe", "args": ["tickers.BTCUSDT"]})
        await public.receive_json()
        snapshot = await public.receive_json(timeout=10)
        bybit_venue.engine.place_order(
            bybit_venue.account.account_id,
            OrderRequest(symbol=Symbol("BTCUSDT"), side=Side.BUY, order_type=OrderType.MARKET, qty=Decimal("0.001")),
        )
        pushes = [await private.receive_json(timeout=10) for _ in range(5)]
    assert [p["topic"] for p in pushes] == ["order", "order", "execution", "position", "wallet"]
    assert [p["data"][0]["orderStatus"] for p in pushes[:2]] == ["New", "Filled"]
    for push in pushes:
        assert set(push) == {"id", "topic", "creationTime", "data"}
        assert isinstance(push["creationTime"], int) and len(push["data"]) == 1
    by_topic = {p["topic"]: p for p in pushes}
    for topic in ("order", "execution", "position", "wallet"):
        documented = WS_EXAMPLES[topic]["data"][0]
        ours = by_topic[topic]["data"][0]
        if topic == "wallet":
            assert_same_shape({k: v for k, v in ours.items() if k != "coin"},
                              {k: v for k, v in documented.items() if k != "coin"}, "wallet push")
            assert_same_shape(ours["coin"][0], documented["coin"][0], "wallet push coin")
        else:
            # The documented execution carries Indian GST in extraFees (a list); elsewhere Bybit sends "".
            assert_same_shape(ours, documented, f"{topic} push", any_kind=frozenset({"extraFees"}))
    documented_ticker = WS_EXAMPLES["ticker_snapshot"]
    assert set(snapshot) == set(documented_ticker)
    assert_same_shape(snapshot["data"], documented_ticker["data"], "ticker snapshot")


async def test_order_book(bybit_rest: Any) -> None:
    ours = await bybit_rest.fetch_order_book(BTC, 2)
    answer = await bybit_rest.public_get_v5_market_orderbook({"category": "linear", "symbol": "BTCUSDT", "limit": 2})
    real_answer = _case("fetchOrderBook")["httpResponse"]
    assert_same_shape(answer["result"], real_answer["result"], "order book")
    assert len(ours["bids"]) == len(ours["asks"]) == 2
    real = bybit_rest.parse_order_book(real_answer["result"], BTC, int(real_answer["result"]["ts"]))
    assert_parsed_alike(ours, real, "order book")


async def test_public_trades(bybit_rest: Any) -> None:
    await bybit_rest.create_order(BTC, "market", "sell", 0.001)
    [ours] = await bybit_rest.fetch_trades(BTC, limit=1)
    real = _case("fetchTrades")["httpResponse"]["result"]["list"][0]
    assert_same_shape(ours["info"], real, "public trade")
    assert_parsed_alike(ours, bybit_rest.parse_trade(real), "public trade")
    assert (ours["side"], ours["amount"], ours["price"]) == ("sell", 0.001, 60000.0)
    [mine] = await bybit_rest.fetch_my_trades(BTC)
    assert ours["id"] == mine["id"]  # the public trade carries the execution's own id, as on Bybit
