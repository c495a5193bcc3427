"""The instruments and account a venue lists when nobody says otherwise."""

from __future__ import annotations

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
