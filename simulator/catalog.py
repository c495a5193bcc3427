"""The instruments and account a venue lists when nobody says otherwise."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from simulator.engine.instruments import Instrument, linear_perpetual

DEFAULT_BALANCE = Decimal(10_000)


def default_instruments() -> list[tuple[Instrument, Decimal]]:
    """BTCUSDT, ETHUSDT and GIGAUSDT with Bybit-like filters, each at a steady starting price."""
    return [
        (
            linear_perpetual(
                "BTCUSDT", tick="0.10", step="0.001", min_qty="0.001", max_qty="1190",
                max_market_qty="119", max_leverage="100",
            ),
            Decimal("60000.0"),
        ),
        (
            linear_perpetual(
                "ETHUSDT", tick="0.01", step="0.01", min_qty="0.01", max_qty="7240",
                max_market_qty="724", max_leverage="100",
            ),
            Decimal("3000.00"),
        ),
        (
            linear_perpetual(
                "GIGAUSDT", tick="0.00001", step="1", min_qty="1", max_qty="10000000",
                max_market_qty="1000000", max_leverage="25",
            ),
            Decimal("0.01950"),
        ),
    ]


BINANCE_TAKER, BINANCE_MAKER = Decimal("0.0005"), Decimal("0.0002")


def binance_instruments() -> list[tuple[Instrument, Decimal]]:
    """BTCUSDT, ETHUSDT, TOWNSUSDT and NILUSDT with Binance-like filters and fees, at steady prices."""
    specs = [
        ("BTCUSDT", "0.10", "0.001", "0.001", "1000", "120", "125", "100", "60000.0"),
        ("ETHUSDT", "0.01", "0.001", "0.001", "10000", "2000", "125", "20", "3000.00"),
        ("TOWNSUSDT", "0.00001", "1", "1", "50000000", "5000000", "50", "5", "0.03120"),
        ("NILUSDT", "0.0001", "0.1", "0.1", "10000000", "1000000", "50", "5", "0.3100"),
    ]
    listed = []
    for symbol, tick, step, min_qty, max_qty, max_market, leverage, notional, price in specs:
        inst = linear_perpetual(symbol, tick=tick, step=step, min_qty=min_qty, max_qty=max_qty,
                                max_market_qty=max_market, max_leverage=leverage, min_notional=notional)
        listed.append((dataclasses.replace(inst, taker_fee_rate=BINANCE_TAKER, maker_fee_rate=BINANCE_MAKER),
                       Decimal(price)))
    return listed
