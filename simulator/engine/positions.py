"""One-way positions and the pure arithmetic of applying a fill to them."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from simulator.engine.values import AccountId, Side, Symbol, TpslMode

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A one-way position: ``size`` is signed, positive long, negative short, zero flat."""

    account_id: AccountId
    symbol: Symbol
    size: Decimal = ZERO
    entry_price: Decimal = ZERO
    leverage: Decimal
    cur_realised_pnl: Decimal = ZERO
    cum_realised_pnl: Decimal = ZERO
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    tpsl_mode: TpslMode = TpslMode.FULL
    created_ms: int
    updated_ms: int
    seq: int = 0

    @property
    def side(self) -> Side | None:
        if self.size > 0:
            return Side.BUY
        if self.size < 0:
            return Side.SELL
        return None

    @property
    def qty(self) -> Decimal:
        return abs(self.size)

    @property
    def is_flat(self) -> bool:
        return self.size == 0

    @property
    def value(self) -> Decimal:
        return self.qty * self.entry_price

    @property
    def initial_margin(self) -> Decimal:
        return self.value / self.leverage

    def unrealised_pnl(self, mark_price: Decimal) -> Decimal:
        if self.is_flat:
            return ZERO
        return self.size * (mark_price - self.entry_price)


@dataclass(frozen=True, slots=True)
class FillOutcome:
    position: Position
    realised_gross: Decimal  # PnL before fees
    closed_qty: Decimal  # how much of the prior position this fill closed


def apply_fill(
    position: Position, side: Side, qty: Decimal, price: Decimal, fee: Decimal, *, ms: int, seq: int
) -> FillOutcome:
    """The position after a fill of ``qty`` at ``price`` on ``side``, paying ``fee``."""
    if qty <= 0:
        raise ValueError(f"a fill needs a positive qty, was {qty}")
    size, entry = position.size, position.entry_price
    was_flat = position.is_flat
    signed = qty * side.sign
    closed = ZERO
    realised = ZERO
    if size == 0 or (size > 0) == (signed > 0):
        new_size = size + signed
        new_entry = (abs(size) * entry + qty * price) / abs(new_size)
    else:
        closed = min(qty, abs(size))
        realised = closed * (price - entry) * (1 if size > 0 else -1)
        new_size = size + signed
        if new_size == 0:
            new_entry = ZERO
        elif (new_size > 0) == (size > 0):
            new_entry = entry
        else:
            new_entry = price  # flipped through zero: the remainder opened at this price
    flipped = size != 0 and new_size != 0 and (size > 0) != (new_size > 0)
    cur = ZERO if was_flat else position.cur_realised_pnl
    updated = dataclasses.replace(
        position,
        size=new_size,
        entry_price=new_entry,
        cur_realised_pnl=cur + realised - fee,
        cum_realised_pnl=position.cum_realised_pnl + realised - fee,
        created_ms=ms if was_flat else position.created_ms,
        updated_ms=ms,
        seq=seq,
        # Position-level TP/SL belong to the holding; they vanish when it goes flat or flips.
        stop_loss=None if new_size == 0 or flipped else position.stop_loss,
        take_profit=None if new_size == 0 or flipped else position.take_profit,
    )
    return FillOutcome(position=updated, realised_gross=realised, closed_qty=closed)
