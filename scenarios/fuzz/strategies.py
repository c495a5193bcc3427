"""Public Hypothesis strategies for fuzzing a subject against the venues: faults, prices, signals, disruptions.

Everything generated is a plain table in the scenario model's words (a ``[[fault]]`` table, an
``[[action]]`` table), so whatever a test draws can be written to a scenario file and replayed.
Use them in your own tests:

    from scenarios.fuzz import strategies as fz

    @given(fz.programs("bybit"))
    def test_my_bot(program): ...

Fault names are left out: whoever plans a fault names it (names must be unique in a plan).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Market:
    """A symbol the fuzzer trades: ccxt's name, the venue's, a starting price, its tick, and a quantity."""

    symbol: str
    venue_symbol: str
    price: Decimal
    tick: Decimal
    qty: Decimal


MARKETS: dict[str, tuple[Market, ...]] = {
    "bybit": (Market("GIGA/USDT:USDT", "GIGAUSDT", Decimal("0.01950"), Decimal("0.00001"), Decimal(920)),
              Market("BTC/USDT:USDT", "BTCUSDT", Decimal("60000.0"), Decimal("0.1"), Decimal("0.01"))),
    "binance": (Market("TOWNS/USDT:USDT", "TOWNSUSDT", Decimal("0.03120"), Decimal("0.00001"), Decimal(1000)),
                Market("BTC/USDT:USDT", "BTCUSDT", Decimal("60000.0"), Decimal("0.1"), Decimal("0.01"))),
}

# The calls an execution core makes to open, confirm, protect, read and close, per venue.
REST_TARGETS: dict[str, tuple[tuple[str, str], ...]] = {
    "bybit": (("POST", "/v5/order/create"), ("GET", "/v5/order/realtime"), ("GET", "/v5/order/history"),
              ("GET", "/v5/position/list"), ("POST", "/v5/order/cancel")),
    "binance": (("POST", "/fapi/v1/order"), ("GET", "/fapi/v1/order"), ("GET", "/fapi/v1/openOrders"),
                ("POST", "/fapi/v1/algoOrder"), ("GET", "/fapi/v1/openAlgoOrders"), ("GET", "/fapi/v3/positionRisk"),
                ("DELETE", "/fapi/v1/algoOrder")),
}
STREAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bybit": ("/v5/private", ("order", "position", "execution")),
    "binance": ("/private/ws", ("ORDER_TRADE_UPDATE", "ALGO_UPDATE", "ACCOUNT_UPDATE")),
}
UNKNOWN_OUTCOME = {"bybit": "bybit-unknown-outcome", "binance": "binance-unknown-outcome"}


def _check(venue: str) -> None:
    if venue not in MARKETS:
        raise ValueError(f"venue = {venue!r}; the fuzzer knows {sorted(MARKETS)}")


def triggers() -> st.SearchStrategy[dict[str, Any]]:
    """When a fault fires: on the n-th call (and a few after), in a window after it is planned, or by chance."""
    return st.one_of(
        st.builds(lambda n, times: {"on_call": n, "times": times}, st.integers(1, 6), st.integers(1, 4)),
        st.builds(lambda start, length: {"start_ms": start, "end_ms": start + length},
                  st.sampled_from([0, 1_000, 5_000]), st.sampled_from([2_000, 10_000, 30_000])),
        st.sampled_from([{"probability": 0.2}, {"probability": 0.5}]),
    )


def rest_effects(venue: str) -> st.SearchStrategy[dict[str, Any]]:
    _check(venue)
    return st.sampled_from([
        {"effect": "drop-before-apply"},
        {"effect": "drop-after-apply"},
        {"effect": "answer", "answer": "gateway-page", "status": 502},
        {"effect": "http", "status": 429, "body": "Too Many Requests", "content_type": "text/plain"},
        {"effect": "http", "status": 200, "body": "", "content_type": "application/json"},
        {"effect": "answer", "answer": UNKNOWN_OUTCOME[venue], "applied": True},
        {"effect": "answer", "answer": UNKNOWN_OUTCOME[venue], "applied": False},
        {"effect": "truncated-answer", "keep_bytes": 40},
        {"effect": "latency", "delay_ms": 3_000},
        {"effect": "latency", "delay_ms": 12_000},  # past ccxt's 10 s timeout: a hang over an applied call
    ])


def rest_faults(venue: str) -> st.SearchStrategy[dict[str, Any]]:
    """A ``[[fault]]`` table (without its name) on one of the calls an execution core makes."""
    return st.builds(lambda target, effect, trigger: {"method": target[0], "path": target[1], **effect, **trigger},
                     st.sampled_from(REST_TARGETS[venue]), rest_effects(venue), triggers())


def stream_faults(venue: str) -> st.SearchStrategy[dict[str, Any]]:
    """A ``[[fault]]`` table on the private stream: pushes lost, late, doubled, or the connection cut."""
    _check(venue)
    path, topics = STREAMS[venue]
    effects = st.sampled_from([{"effect": "drop-frame"}, {"effect": "delay-frame", "delay_ms": 3_000},
                               {"effect": "duplicate-frame"}, {"effect": "close-stream"}, {"effect": "abort-stream"}])
    return st.builds(lambda topic, effect, trigger: {"stream": path, **({"topic": topic} if topic else {}), **effect,
                                                     **trigger},
                     st.sampled_from((None, *topics)), effects, triggers())


def read_side_faults() -> st.SearchStrategy[dict[str, Any]]:
    """The venue's read side lagging its write side for a while (orders invisible, a stale position list)."""
    window = st.sampled_from([{"start_ms": 0, "end_ms": 10_000}, {"start_ms": 0, "end_ms": 60_000}])
    lag = st.sampled_from([{"queries": "orders", "effect": "visibility-lag", "lag_ms": 4_000},
                           {"queries": "positions", "effect": "position-lag", "lag_ms": 20_000}])
    return st.builds(lambda a, b: {**a, **b}, lag, window)


def fault_tables(venue: str) -> st.SearchStrategy[dict[str, Any]]:
    """Any fault the fuzzer plans on ``venue``, as a table (add a ``name`` before planning it)."""
    return st.one_of(rest_faults(venue), stream_faults(venue), read_side_faults())


def price_moves(market: Market) -> st.SearchStrategy[Decimal]:
    """A new price for ``market``: a step of 0.2% to 15% either way from its start, on the tick grid."""
    def moved(percent: int, up: bool) -> Decimal:
        factor = 1 + Decimal(percent) / 1000 * (1 if up else -1)
        return (market.price * factor / market.tick).quantize(Decimal(1), ROUND_HALF_EVEN) * market.tick

    return st.builds(moved, st.sampled_from([2, 10, 30, 80, 150]), st.booleans())


def price_steps(venue: str) -> st.SearchStrategy[dict[str, Any]]:
    """A price move on one of the venue's fuzzed markets, as an ``[[action]]`` table."""
    _check(venue)
    return st.sampled_from(MARKETS[venue]).flatmap(
        lambda m: price_moves(m).map(lambda p: {"do": "price", "symbol": m.venue_symbol, "price": str(p)}))


def signals(venue: str) -> st.SearchStrategy[dict[str, Any]]:
    """What a strategy tells the execution core: open a long or a short, or close a symbol."""
    _check(venue)
    markets = st.sampled_from(MARKETS[venue])
    return st.one_of(
        st.builds(lambda m, side: {"do": "open", "symbol": m.symbol, "side": side, "qty": str(m.qty)},
                  markets, st.sampled_from(["long", "short"])),
        st.builds(lambda m: {"do": "close", "symbol": m.symbol}, markets),
    )


def disruptions() -> st.SearchStrategy[dict[str, Any]]:
    """The subject crashes and restarts, the venue restarts, or the venue drops its private streams."""
    return st.sampled_from([{"do": "restart"}, {"do": "venue-restart"}, {"do": "drop-streams"}])


def waits() -> st.SearchStrategy[int]:
    """How long nothing is told: from a moment to past a synchronizer period and its settle rules."""
    return st.sampled_from([200, 1_000, 5_000, 15_000, 30_000, 65_000])


def programs(venue: str, *, max_steps: int = 12) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A whole step program (``[[action]]`` tables with ``at_ms``), faults named ``f1``, ``f2``, ...."""
    _check(venue)
    one = st.one_of(
        signals(venue),
        disruptions(),
        price_steps(venue),
        st.builds(lambda f: {"do": "fault", "fault": f}, fault_tables(venue)),
        st.just({"do": "clear-faults"}),
    )

    def timed(pairs: list[tuple[dict[str, Any], int]]) -> list[dict[str, Any]]:
        at, out, faults = 0, [], 0
        for table, wait in pairs:
            table = dict(table)
            if table["do"] == "fault":
                faults += 1
                table["fault"] = {"name": f"f{faults}", **table["fault"]}
            out.append({"at_ms": at, **table})
            at += wait
        return out

    return st.lists(st.tuples(one, waits()), min_size=1, max_size=max_steps).map(timed)
