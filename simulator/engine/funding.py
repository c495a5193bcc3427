"""Funding: at each funding instant of an instrument every open position pays, or receives,
``size x mark price x funding rate``.

Instants lie on the interval's grid from the epoch (00:00, 08:00 and 16:00 UTC for the usual eight
hours, as both venues settle). A long pays a positive rate and a short receives it. Each payment
is an execution of type ``Funding`` (Bybit lists and pushes them among executions; Binance reports
them as FUNDING_FEE income): it changes the wallet and the position's realised PnL, never its size.
Its fee rate is signed as Bybit shows it, the fee over the value: the rate for a long, its negative
for a short.
Nothing settles at the listing instant itself.

The engine keeps no timers: the venue's server calls ``settle_due`` at each instant (a timer on the
loop, free under virtual time), and so can a test driving the engine by hand.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from simulator.engine.events import Executed, WalletChanged
from simulator.engine.fills import FUNDING, Execution
from simulator.engine.values import CreateType, OrderType, StopOrderType, Symbol

if TYPE_CHECKING:
    from simulator.engine.venue import Engine

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Settlement:
    """One funding instant of one instrument, as the funding-rate history lists it."""

    symbol: Symbol
    at_ms: int
    rate: Decimal
    mark_price: Decimal


class Funding:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._settled_ms: dict[Symbol, int] = {}
        self._history: dict[Symbol, list[Settlement]] = {}

    def listed(self, symbol: Symbol, at_ms: int) -> None:
        self._settled_ms[symbol] = at_ms
        self._history[symbol] = []

    def history(self, symbol: Symbol) -> list[Settlement]:
        return list(self._history[symbol])

    def next_due_ms(self) -> int | None:
        """The earliest funding instant not yet settled, over every instrument (None: nothing listed)."""
        return min((self._next(symbol) for symbol in self._settled_ms), default=None)

    def settle_due(self) -> None:
        """Settle every funding instant up to now, earliest first (instruments by symbol at one instant)."""
        now = self._engine.now_ms()
        due = sorted((at, symbol) for symbol in self._settled_ms for at in self._instants(symbol, now))
        for at, symbol in due:
            # Marked before it is paid: an instant is settled at most once, even if a listener raises
            # while it is paid (the caller records that; a retry would charge it twice).
            self._settled_ms[symbol] = at
            self._settle(symbol, at)

    def _interval_ms(self, symbol: Symbol) -> int:
        return self._engine.instrument(symbol).funding_interval_min * 60_000

    def _next(self, symbol: Symbol) -> int:
        interval = self._interval_ms(symbol)
        return (self._settled_ms[symbol] // interval + 1) * interval

    def _instants(self, symbol: Symbol, now: int) -> range:
        return range(self._next(symbol), now + 1, self._interval_ms(symbol))

    def _settle(self, symbol: Symbol, at_ms: int) -> None:
        engine = self._engine
        market = engine.market(symbol)
        mark, rate = engine.tape(symbol).price_at(at_ms), market.funding_rate
        self._history[symbol].append(Settlement(symbol, at_ms, rate, mark))
        with engine._batch():
            for position in engine.all_positions():
                if position.symbol != symbol or position.is_flat:
                    continue
                assert position.side is not None
                fee = position.qty * mark * rate * position.side.sign  # positive: the position pays
                seq = engine._next_seq()
                execution = Execution(
                    exec_id=engine.ids.exec_id(), account_id=position.account_id, order_id=engine.ids.order_id(),
                    client_order_id=None, symbol=symbol, side=position.side, order_type=OrderType.MARKET,
                    stop_order_type=StopOrderType.NONE, create_type=CreateType.BY_USER, price=mark,
                    qty=position.qty, fee=fee, fee_rate=rate * position.side.sign, is_maker=False, order_price=ZERO, order_qty=ZERO,
                    leaves_qty=ZERO, closed_qty=ZERO, realised_pnl=ZERO, mark_price=mark, exec_ms=at_ms, seq=seq,
                    exec_type=FUNDING,
                )
                engine.orders.add_execution(execution)
                engine._settle(position.account_id, ZERO, fee)
                engine._emit(Executed(execution))
                engine._put_position(dataclasses.replace(
                    position, cur_realised_pnl=position.cur_realised_pnl - fee,
                    cum_realised_pnl=position.cum_realised_pnl - fee, updated_ms=engine.now_ms(), seq=seq))
                engine._emit(WalletChanged(engine.wallet_view(position.account_id)))
