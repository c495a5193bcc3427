"""Cursor paging shared by the list endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from simulator.bybit.errors import invalid
from simulator.bybit.params import INTEGER, Params

T = TypeVar("T")


SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000


def time_window(params: Params, now_ms: int) -> tuple[int, int]:
    """``startTime``/``endTime`` with Bybit's defaults: a 7-day window ending now, or starting at ``startTime``."""
    start = params.integer("startTime")
    end = params.integer("endTime")
    if end is None:
        end = now_ms if start is None else start + SEVEN_DAYS_MS
    if start is None:
        start = end - SEVEN_DAYS_MS
    return start, end


def page(items: Sequence[T], params: Params, *, default: int, maximum: int) -> tuple[list[T], str]:
    """One page of ``items`` and the cursor of the next one ("" when there is none).

    The cursor is an opaque offset: an empty ``nextPageCursor`` is what tells clients
    (ccxt's market loader among them) that they have everything.
    """
    limit = params.limit(default=default, maximum=maximum)
    cursor = params.text("cursor")
    start = 0
    if cursor is not None:
        if not INTEGER.fullmatch(cursor) or cursor.startswith("-"):
            raise invalid("cursor")
        start = int(cursor)
    chunk = list(items[start : start + limit])
    following = start + limit
    return chunk, (str(following) if following < len(items) else "")
