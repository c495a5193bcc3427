"""A run's trace as the incident report's kind of timeline: T+ms, actor, event, key fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scenarios.subjects.ours import ACTOR as JOURNAL
from virtualtime.trace import Record

VENUES = ("bybit", "binance")  # the venues' trace actors
# Subject journal kinds worth a line; everything else stays in the full trace (`--trace`).
_SUBJECT_KINDS = ("intent.", "position.", "sync.cycle", "sync.stopped_out", "sync.stop_unread", "sync.action",
                  "sync.unconfirmed", "confirm.source", "entry.", "flatten.", "stop.")
_DROP = {"avg_price", "filled_qty", "entry_order_id", "reason"}  # shown when set
_HIDDEN = {"started_ms"}  # an epoch instant beside the line's own T+ time says nothing more


def lines(records: Iterable[Record], start_ms: int) -> list[str]:
    out = []
    for record in records:
        text = _describe(record)
        if text is not None:
            out.append(f"T+{record.at_ms - start_ms:>7} ms  {record.actor:<9} {text}")
    return out


def _describe(record: Record) -> str | None:
    fields = record.fields
    if record.actor == "scenario":
        return f"{record.kind}  {_flat(fields)}".rstrip()
    if record.actor in VENUES:
        if record.kind == "execution":
            e = fields["execution"]
            if e.get("exec_type", "Trade") != "Trade":  # a funding payment: money moved, nothing traded
                return f"{e['exec_type'].lower()}  {e['side']} {e['qty']} {e['symbol']} @ {e['price']}  paid={e['fee']}"
            return (f"fill  {e['side']} {e['qty']} {e['symbol']} @ {e['price']}  order={e['order_id']}"
                    f" link={e.get('client_order_id') or '-'}")
        if record.kind == "fault":
            return f"fault  {_flat(fields)}"
        return None
    if record.actor == JOURNAL:  # our bot's journal (under any subject name): the lines worth reading
        if record.kind == "sync.cycle" and not fields.get("actions"):
            return None  # a pass that found nothing to do
        if not record.kind.startswith(_SUBJECT_KINDS):
            return None
    # Any other actor is a subject's own (seed-flow's, a user's): every record it reports is shown.
    shown = {k: v for k, v in fields.items() if (v is not None or record.actor != JOURNAL) and k not in _HIDDEN}
    return f"{record.kind}  {_flat(shown)}".rstrip()


def _flat(fields: Mapping[str, Any]) -> str:
    parts = []
    for key, value in fields.items():
        if key in _DROP and value in (None, ""):
            continue
        text = str(value)
        parts.append(f"{key}={text if len(text) <= 120 else text[:117] + '...'}")
    return " ".join(parts)
