"""Binance's numeric ids for the engine's orders: regular order ids and algo ids, issued in order.

The engine names orders with UUIDs (Bybit's style); Binance clients see 64-bit numbers. The
mapping is this venue's own, deterministic from the seed, and two-way.
"""

from __future__ import annotations

import hashlib

from simulator.engine.ids import IdSource
from simulator.engine.values import VenueOrderId


class NumericIds:
    def __init__(self, ids: IdSource) -> None:
        self._source = ids
        # Binance ids are large and grow; start each run somewhere plausible, from the seed.
        self._next_order = 4_000_000_000 + ids.uid()
        self._next_algo = 2_000_000 + ids.uid() % 1_000_000
        self._order: dict[VenueOrderId, int] = {}
        self._algo: dict[VenueOrderId, int] = {}
        self.algo_types: dict[VenueOrderId, str] = {}  # STOP_MARKET, TAKE_PROFIT_MARKET, ...
        self._by_number: dict[int, VenueOrderId] = {}
        # Binance numbers each symbol's trades, and its aggregate trades apart from them, from its own start.
        self._trade = _PerSymbol(ids, 200_000_000)
        self._agg = _PerSymbol(ids, 20_000_000)
        self._next_tran = 9_000_000_000 + ids.uid() % 1_000_000_000
        self._tran: dict[str, int] = {}

    def order(self, engine_id: VenueOrderId) -> int:
        if engine_id not in self._order:
            self._next_order += 1
            self._order[engine_id] = self._next_order
            self._by_number[self._next_order] = engine_id
        return self._order[engine_id]

    def algo(self, engine_id: VenueOrderId) -> int:
        if engine_id not in self._algo:
            self._next_algo += 1
            self._algo[engine_id] = self._next_algo
            self._by_number[self._next_algo] = engine_id
        return self._algo[engine_id]

    def client_id(self) -> str:
        """A client id for an order sent without one, as Binance makes them up (22 characters)."""
        return self._source.uuid().replace("-", "")[:22]

    def trade(self, exec_id: str, symbol: str) -> int:
        """A fill's trade id: its symbol's next when first asked (the venue asks as each fill happens)."""
        return self._trade.number(exec_id, symbol)

    def agg(self, exec_id: str, symbol: str) -> int:
        """A fill's aggregate trade id (each fill is an aggregate of its own here), numbered as ``trade``."""
        return self._agg.number(exec_id, symbol)

    def transaction(self, key: str) -> int:
        """An income row's ``tranId``, issued in order the first time the row is shown."""
        if key not in self._tran:
            self._next_tran += 1
            self._tran[key] = self._next_tran
        return self._tran[key]

    def engine_id(self, number: int) -> VenueOrderId | None:
        return self._by_number.get(number)

    def is_algo(self, engine_id: VenueOrderId) -> bool:
        return engine_id in self._algo


class _PerSymbol:
    """Numbers issued in order within each symbol, from a start of its own: the seed's and the symbol's,
    whatever other symbols did before."""

    def __init__(self, ids: IdSource, floor: int) -> None:
        self._salt, self._floor = ids.uid(), floor
        self._next: dict[str, int] = {}
        self._numbers: dict[str, int] = {}

    def number(self, key: str, symbol: str) -> int:
        if key not in self._numbers:
            if symbol not in self._next:
                digest = hashlib.sha256(f"{self._salt}:{symbol}".encode()).digest()
                self._next[symbol] = self._floor + int.from_bytes(digest[:8], "big") % self._floor
            self._next[symbol] += 1
            self._numbers[key] = self._next[symbol]
        return self._numbers[key]
