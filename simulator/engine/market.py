"""Per-instrument market state. Prices move only when a test, scenario or control call moves them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.values import Symbol


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketState:
    symbol: Symbol
    last_price: Decimal
    mark_price: Decimal
    index_price: Decimal
    funding_rate: Decimal = Decimal("0.0001")
    updated_ms: int = 0
    seq: int = 0

    @classmethod
    def steady(cls, symbol: Symbol, price: Decimal, *, ms: int) -> MarketState:
        return cls(
            symbol=symbol,
            last_price=price,
            mark_price=price,
            index_price=price,
            updated_ms=ms,
        )

    def moved_to(self, price: Decimal, *, ms: int) -> MarketState:
        if price <= 0:
            raise ValueError(f"{self.symbol}: a price must be positive, was {price}")
        return dataclasses.replace(
            self,
            last_price=price,
            mark_price=price,
            index_price=price,
            updated_ms=ms,
            seq=self.seq + 1,
        )
