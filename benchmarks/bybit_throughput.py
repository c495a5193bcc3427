"""How fast the Bybit venue answers: engine commands in-process, and ccxt round trips over loopback.

Run: ``.venv/bin/python -m benchmarks.bybit_throughput``; results are kept in benchmarks/results/.
"""

from __future__ import annotations

import asyncio
import platform
import random
import time
from decimal import Decimal

from simulator.catalog import default_instruments
from simulator.clock import ManualClock
from simulator.engine import Engine, OrderRequest, OrderType, Side, Symbol
from simulator.server import serve_bybit


def engine_orders(n: int) -> float:
    engine = Engine(clock=ManualClock(), rng=random.Random(0))
    for instrument, price in default_instruments():
        engine.add_instrument(instrument, price)
    account = engine.add_account(api_key="k", api_secret="s", balance=Decimal(10_000))
    sides = (Side.BUY, Side.SELL)
    started = time.perf_counter()
    for i in range(n):
        engine.place_order(
            account.account_id,
            OrderRequest(symbol=Symbol("GIGAUSDT"), side=sides[i % 2], order_type=OrderType.MARKET, qty=Decimal(300)),
        )
    return n / (time.perf_counter() - started)


async def ccxt_round_trips(n: int, *, rate_limited: bool) -> float:
    async with serve_bybit(seed=0) as venue:
        client = venue.rest_client(enableRateLimit=rate_limited)
        await client.load_markets()
        await client.create_order("GIGA/USDT:USDT", "market", "buy", 300)
        started = time.perf_counter()
        for i in range(n):
            await client.create_order("GIGA/USDT:USDT", "market", ("sell", "buy")[i % 2], 300)
        return n / (time.perf_counter() - started)


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print(f"engine place_order (market, fills):        {engine_orders(5000):8.0f} orders/s")
    print(f"ccxt create_order, rate limiter off:       {asyncio.run(ccxt_round_trips(300, rate_limited=False)):8.0f} orders/s")
    print(f"ccxt create_order, default rate limiter:   {asyncio.run(ccxt_round_trips(30, rate_limited=True)):8.0f} orders/s")


if __name__ == "__main__":
    main()
