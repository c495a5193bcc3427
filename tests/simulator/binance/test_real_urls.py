"""ccxt keeps Binance's real URLs, resolved to the local venue over local TLS: production's exception classes."""

from __future__ import annotations

import asyncio
from typing import Any

import ccxt
import pytest

from simulator.server import RunningBinance, serve_binance
from simulator.simulation import Simulation
from simulator.testing import watching_binance
from simulator.tls import LocalResolver

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"


@pytest.mark.parametrize(("order", "error"), [
    ((BTC, "market", "buy", 100), ccxt.InsufficientFunds),  # -2019: ExchangeError under an overridden URL
    ((BTC, "market", "sell", 0.01, None, {"reduceOnly": True}), ccxt.InvalidOrder),  # -2022
    ((BTC, "market", "buy", 0.0011), ccxt.InvalidOrder),  # -4164, min notional
], ids=["-2019", "-2022", "-4164"])
async def test_refusals_reach_ccxt_as_the_classes_production_raises(
    simulation: Simulation, order: tuple[Any, ...], error: type[Exception]
) -> None:
    async with serve_binance(seed=1, tls=True) as venue:
        client = venue.real_url_client()
        await client.load_markets()

        assert client.urls["api"]["fapiPrivate"] == "https://fapi.binance.com/fapi/v1"  # nothing overridden
        with pytest.raises(error):
            await client.create_order(*order)
        filled = await client.create_order(BTC, "market", "buy", 0.01)
        assert (filled["status"], filled["filled"]) == ("closed", 0.01)


async def test_real_urls_need_the_venue_served_with_tls(binance_venue: RunningBinance) -> None:
    with pytest.raises(RuntimeError, match="tls=True"):
        binance_venue.real_url_client()


async def test_the_resolver_answers_only_for_the_venue_hosts() -> None:
    resolver = LocalResolver(["fapi.binance.com"], 4443)
    [answer] = await resolver.resolve("fapi.binance.com", 443)
    assert (answer["host"], answer["port"]) == ("127.0.0.1", 4443)
    with pytest.raises(OSError, match="not a venue host"):
        await resolver.resolve("example.com", 443)


async def test_ccxt_pro_keeps_the_real_stream_urls_too(simulation: Simulation) -> None:
    async with serve_binance(seed=1, tls=True) as venue:
        rest, pro, watching = await watching_binance(
            venue, clients=(venue.real_url_client(), venue.real_url_client(pro=True)))

        order = await rest.create_order(BTC, "market", "buy", 0.01)

        [pushed] = await asyncio.wait_for(watching, 10)
        assert pushed["id"] == order["id"]
        assert [url.split("?")[0] for url in pro.clients if "://" in url] == ["wss://fstream.binance.com/private/ws"]
