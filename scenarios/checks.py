"""End-of-run invariants, each a pure function of venue records and the trace, returning violations.

The checks over time (phantom, unprotected, database ahead of venue, protection removed) live in
``scenarios/invariants.py``; these look at a whole run once it is over.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from decimal import Decimal
from urllib.parse import parse_qs

from scenarios.invariants import Violation
from simulator.engine.fills import Execution
from simulator.engine.orders import Order
from virtualtime.trace import Record

LOOKUP_PATHS = ("/v5/order/realtime", "/v5/order/history", "/v5/order/cancel", "/v5/order/amend",
                "/v5/execution/list")


def ledger(executions: Sequence[Execution], deposits: Decimal, balance: Decimal, at_ms: int) -> list[Violation]:
    """The wallet equals deposits + realised PnL - fees (funding payments among them), recomputed from
    the executions alone (average cost)."""
    held: dict[str, tuple[Decimal, Decimal]] = {}  # symbol -> (signed size, entry price)
    realised = fees = Decimal(0)
    for fill in sorted(executions, key=lambda e: e.seq):
        fees += fill.fee
        if not fill.is_trade:  # a funding payment moves money, not the position
            continue
        size, entry = held.get(fill.symbol, (Decimal(0), Decimal(0)))
        signed = fill.qty * fill.side.sign
        if size == 0 or (size > 0) == (signed > 0):
            new = size + signed
            held[fill.symbol] = (new, (abs(size) * entry + fill.qty * fill.price) / abs(new))
            continue
        closed = min(fill.qty, abs(size))
        realised += closed * (fill.price - entry) * (1 if size > 0 else -1)
        new = size + signed
        held[fill.symbol] = (new, Decimal(0) if new == 0 else entry if (new > 0) == (size > 0) else fill.price)
    expected = deposits + realised - fees
    if expected == balance:
        return []
    return [Violation("ledger does not balance", at_ms, at_ms,
                      f"wallet {balance} != deposits {deposits} + realised {realised} - fees {fees} = {expected}")]


def unknown_lookups(records: Iterable[Record], issued: set[str], venue_actor: str) -> list[Violation]:
    """Requests naming an order id the venue never issued (a client id taken for an order id, say)."""
    found = []
    for record in records:
        if record.actor != venue_actor or record.kind != "rest.request":
            continue
        path = record.fields.get("path")
        if path not in LOOKUP_PATHS:
            continue
        named = parse_qs(str(record.fields.get("query") or "")).get("orderId", [])
        body = record.fields.get("body")
        if isinstance(body, str) and body.startswith("{"):
            try:
                value = json.loads(body).get("orderId")
            except (json.JSONDecodeError, AttributeError):
                value = None
            if value:
                named.append(str(value))
        for order_id in named:
            if order_id not in issued:
                found.append(Violation("lookup by an id the venue never issued", record.at_ms, record.at_ms,
                                       f"{path} with orderId={order_id}"))
    return found


def duplicate_entries(orders: Iterable[Order], opens: int, at_ms: int) -> list[Violation]:
    """More exposure-opening orders than the subject was told to open: an entry was sent twice."""
    entries = sorted((o for o in orders if not o.reduce_only and o.trigger_price is None and o.filled_qty > 0),
                     key=lambda o: o.created_ms)
    if len(entries) <= opens:
        return []
    shown = ", ".join(f"{o.client_order_id or o.order_id} at {o.created_ms}" for o in entries)
    return [Violation("duplicate entry", entries[opens].created_ms, at_ms,
                      f"{len(entries)} filled entries for {opens} open(s): {shown}")]
