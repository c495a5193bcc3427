"""Our Binance answers against real USD-M responses (tests/fixtures/binance_usdm_subset.json): the same keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulator.server import RunningBinance

pytestmark = pytest.mark.virtual_time
RECORDED = json.loads((Path(__file__).parents[2] / "fixtures" / "binance_usdm_subset.json").read_text())["methods"]
BTC = "BTC/USDT:USDT"


def recorded(method: str, description: str) -> Any:
    return next(c["httpResponse"] for c in RECORDED[method] if c["description"] == description)


async def test_order_keys_match_a_real_open_order(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    order = await binance_rest.create_order(BTC, "limit", "buy", 0.01, 59000)
    ours = await binance_rest.fapiPrivateGetOpenOrder({"symbol": "BTCUSDT", "orderId": order["id"]})

    assert set(recorded("fetchOpenOrder", "swap open order")) <= set(ours)


async def test_position_keys_match_real_position_risk(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    await binance_rest.create_order(BTC, "market", "buy", 0.01)
    [ours] = await binance_rest.fapiPrivateV3GetPositionRisk()

    [real] = recorded("fetchPositions", "Fetch linear positions without symbols")[:1]
    assert set(real) <= set(ours)


async def test_trade_keys_match_a_real_user_trade(binance_rest: Any) -> None:
    await binance_rest.load_markets()
    await binance_rest.create_order(BTC, "market", "buy", 0.01)
    [ours] = await binance_rest.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})

    assert set(recorded("fetchMyTrades", "Swap private trade")[0]) <= set(ours)


async def test_account_asset_keys_match_a_real_balance(binance_venue: RunningBinance, binance_rest: Any) -> None:
    ours = await binance_rest.fapiPrivateV3GetAccount()
    real = recorded("fetchBalance", "Linear swap balance")

    wanted_top = {k for k in real if k.startswith("total") or k in ("availableBalance", "maxWithdrawAmount", "assets")}
    assert wanted_top <= set(ours)
    usdt = next(a for a in real["assets"] if a["asset"] == "USDT")
    assert set(usdt) - {"marginAvailable"} <= set(ours["assets"][0])


async def test_order_book_keys_match_a_real_depth_answer(binance_rest: Any) -> None:
    book = await binance_rest.fetch_order_book(BTC, 5)
    ours = await binance_rest.fapiPublicGetDepth({"symbol": "BTCUSDT", "limit": 5})
    real = recorded("fetchOrderBook", "swap orderbook")

    assert set(ours) == set(real)
    assert len(ours["bids"]) == len(ours["asks"]) == 5 and all(len(level) == 2 for level in ours["bids"])
    assert book["nonce"] == ours["lastUpdateId"]  # nothing changed the book between the two reads
    assert book["timestamp"] < ours["T"]  # ccxt's limiter spaced them: the venue's clock stamped each
