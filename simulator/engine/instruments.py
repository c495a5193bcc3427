"""Tradable instruments and the arithmetic of their filters."""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.values import Symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A USDT-settled linear perpetual contract (contract size 1)."""

    symbol: Symbol
    base_coin: str
    quote_coin: str = "USDT"
    settle_coin: str = "USDT"
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    max_market_qty: Decimal
    min_notional: Decimal
    min_leverage: Decimal = Decimal("1")
    max_leverage: Decimal
    leverage_step: Decimal = Decimal("0.01")
    taker_fee_rate: Decimal = Decimal("0.00055")
    maker_fee_rate: Decimal = Decimal("0.0002")
    launch_time_ms: int = 1_585_526_400_000
    status: str = "Trading"
    funding_interval_min: int = 480

    def __post_init__(self) -> None:
        for name in ("tick_size", "qty_step", "min_qty", "max_leverage"):
            value = getattr(self, name)
            if value <= 0:
                raise ValueError(f"Instrument {self.symbol}: {name} must be positive, was {value}")

    @property
    def price_scale(self) -> int:
        return _decimals(self.tick_size)

    @property
    def qty_scale(self) -> int:
        return _decimals(self.qty_step)

    def is_on_tick(self, price: Decimal) -> bool:
        return self.is_multiple(price, self.tick_size)

    def is_on_step(self, qty: Decimal) -> bool:
        return self.is_multiple(qty, self.qty_step)

    @staticmethod
    def is_multiple(value: Decimal, step: Decimal) -> bool:
        try:
            return value % step == 0
        except decimal.InvalidOperation:
            # Too many digits for the context to divide: no sane price or qty looks like that.
            return False

    def round_price(self, price: Decimal) -> Decimal:
        """The nearest price on the tick grid (half up)."""
        ticks = (price / self.tick_size).quantize(Decimal(1), rounding="ROUND_HALF_UP")
        return ticks * self.tick_size

    def format_price(self, price: Decimal) -> str:
        return f"{price:.{self.price_scale}f}"

    def format_qty(self, qty: Decimal) -> str:
        return f"{qty:.{self.qty_scale}f}"


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def linear_perpetual(
    symbol: str,
    *,
    tick: str,
    step: str,
    min_qty: str,
    max_qty: str,
    max_leverage: str,
    min_notional: str = "5",
    max_market_qty: str | None = None,
    max_price: str | None = None,
) -> Instrument:
    """A USDT linear perpetual with Bybit-like defaults for the fields not given."""
    base = symbol.removesuffix("USDT")
    tick_d = Decimal(tick)
    return Instrument(
        symbol=Symbol(symbol),
        base_coin=base,
        tick_size=tick_d,
        min_price=tick_d,
        max_price=Decimal(max_price) if max_price is not None else tick_d * 19_999_998,
        qty_step=Decimal(step),
        min_qty=Decimal(min_qty),
        max_qty=Decimal(max_qty),
        max_market_qty=Decimal(max_market_qty) if max_market_qty is not None else Decimal(max_qty) / 10,
        min_notional=Decimal(min_notional),
        max_leverage=Decimal(max_leverage),
    )
