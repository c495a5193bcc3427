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
    prev_price_24h: Decimal
    high_price_24h: Decimal
    low_price_24h: Decimal
    volume_24h: Decimal = Decimal(0)
    turnover_24h: Decimal = Decimal(0)
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
            prev_price_24h=price,
            high_price_24h=price,
            low_price_24h=price,
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
            high_price_24h=max(self.high_price_24h, price),
            low_price_24h=min(self.low_price_24h, price),
            updated_ms=ms,
            seq=self.seq + 1,
        )

    def traded(self, qty: Decimal, price: Decimal) -> MarketState:
        return dataclasses.replace(
            self, volume_24h=self.volume_24h + qty, turnover_24h=self.turnover_24h + qty * price
        )

    @property
    def price_24h_pcnt(self) -> Decimal:
        if self.prev_price_24h == 0:
            return Decimal(0)
        return (self.last_price - self.prev_price_24h) / self.prev_price_24h
