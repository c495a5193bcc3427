"""Same seed, same ids and answers, however many sockets the client opens."""

from __future__ import annotations

import asyncio

import pytest

from simulator.server import serve_bybit

pytestmark = pytest.mark.virtual_time

BTC = "BTC/USDT:USDT"


async def _order_ids(seed: int, *, with_stream: bool) -> list[str]:
    async with serve_bybit(seed=seed) as venue:
        if with_stream:
            pro = venue.pro_client()
            watching = asyncio.ensure_future(pro.watch_ticker(BTC))
            await asyncio.wait_for(watching, 10)
        rest = venue.rest_client()
        ids = []
        for side in ("buy", "sell", "buy"):
            ids.append((await rest.create_order(BTC, "market", side, 0.01))["id"])
        return ids


async def test_order_ids_follow_the_seed_only() -> None:
    plain = await _order_ids(21, with_stream=False)
    streamed = await _order_ids(21, with_stream=True)
    assert plain == streamed
    assert plain != await _order_ids(22, with_stream=False)
    assert len(set(plain)) == 3
