"""Binance's numeric ids: each symbol's trade ids its own sequence, whatever other symbols did."""

from __future__ import annotations

import random

from simulator.binance.ids import NumericIds
from simulator.engine.ids import IdSource


def test_a_symbols_trade_and_aggregate_ids_do_not_depend_on_other_symbols() -> None:
    alone, after_eth = NumericIds(IdSource(random.Random(7))), NumericIds(IdSource(random.Random(7)))
    after_eth.trade("eth-fill", "ETHUSDT")
    after_eth.agg("eth-fill", "ETHUSDT")
    after_eth.client_id()  # the venue made up a client id meanwhile

    assert after_eth.trade("btc-1", "BTCUSDT") == alone.trade("btc-1", "BTCUSDT")
    assert after_eth.agg("btc-1", "BTCUSDT") == alone.agg("btc-1", "BTCUSDT")
    assert alone.trade("btc-2", "BTCUSDT") == alone.trade("btc-1", "BTCUSDT") + 1  # consecutive in a symbol
    assert alone.trade("btc-1", "BTCUSDT") == alone.trade("btc-1", "BTCUSDT")  # a fill keeps its number
    assert NumericIds(IdSource(random.Random(8))).trade("btc-1", "BTCUSDT") != alone.trade("btc-1", "BTCUSDT")
