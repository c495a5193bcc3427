"""Funding on the Binance venue through unmodified ccxt: FUNDING_FEE income, the ACCOUNT_UPDATE, the rate history."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import aiohttp
import pytest

from simulator.server import RunningBinance

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"
EIGHT_HOURS_S = 8 * 3600


async def test_a_held_short_receives_funding_as_income_and_a_balance_only_push(binance_venue: RunningBinance) -> None:
    rest, pro = binance_venue.rest_client(), binance_venue.pro_client()
    await rest.load_markets()
    await rest.create_order(BTC, "market", "sell", 0.1)
    [trade] = await rest.fetch_my_trades(BTC)
    before = (await rest.fetch_balance())["USDT"]["total"]
    to_funding = EIGHT_HOURS_S - binance_venue.engine.now_ms() % (EIGHT_HOURS_S * 1000) / 1000
    await asyncio.sleep(to_funding - 60)  # a listen key lives an hour: subscribe just before the instant
    balance_push = asyncio.ensure_future(pro.watch_balance())  # resolved by the next ACCOUNT_UPDATE
    await asyncio.sleep(60)

    received = 0.1 * 60000 * 0.0001
    pushed = await asyncio.wait_for(balance_push, 5)
    assert pushed["USDT"]["total"] == pytest.approx(before + received)
    [funding] = await rest.fetch_funding_history(BTC)
    assert (funding["amount"], funding["code"], funding["info"]["incomeType"]) == (received, "USDT", "FUNDING_FEE")
    ledger = await rest.fapiPrivateGetIncome({"symbol": "BTCUSDT"})
    assert [row["incomeType"] for row in ledger] == ["COMMISSION", "FUNDING_FEE"]
    assert ledger[0]["tradeId"] == trade["id"] and ledger[1]["tradeId"] == ""
    assert len({row["tranId"] for row in ledger}) == 2
    assert [t["id"] for t in await rest.fetch_my_trades(BTC)] == [trade["id"]]  # a payment is not a trade
    [rate] = await rest.fetch_funding_rate_history(BTC)
    assert (rate["fundingRate"], rate["timestamp"]) == (0.0001, funding["timestamp"])
    await pro.close()


async def test_the_funding_push_carries_the_balance_alone_as_binance_documents(binance_venue: RunningBinance) -> None:
    rest = binance_venue.rest_client()
    await rest.load_markets()
    await rest.create_order(BTC, "market", "buy", 0.1)
    to_funding = EIGHT_HOURS_S - binance_venue.engine.now_ms() % (EIGHT_HOURS_S * 1000) / 1000
    await asyncio.sleep(to_funding - 60)
    key = (await rest.fapiPrivatePostListenKey())["listenKey"]
    ws_url = binance_venue.base_url.replace("http", "ws", 1) + f"/ws/{key}"
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        await asyncio.wait_for(binance_venue.venue.streams.wait_listening(binance_venue.account.account_id), 10)
        message = json.loads((await asyncio.wait_for(ws.receive(), 120)).data)
    wallet = binance_venue.engine.wallet(binance_venue.account.account_id).balance
    assert message["e"] == "ACCOUNT_UPDATE" and message["E"] % (EIGHT_HOURS_S * 1000) == 0
    [balance] = message["a"]["B"]
    assert (message["a"]["m"], message["a"]["P"]) == ("FUNDING_FEE", [])  # a long pays: the balance alone
    assert (balance["a"], Decimal(balance["wb"]), Decimal(balance["cw"]), Decimal(balance["bc"])) == \
        ("USDT", wallet, wallet, -Decimal("0.6"))
