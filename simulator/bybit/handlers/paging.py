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
    """One page of ``items`` and the cursor that follows it.

    The cursor is an opaque offset. Like Bybit's own list endpoints (the recorded answers carry a
    cursor with a single order or position), every page that holds anything carries one, the last
    included: a client following it gets an empty page with an empty cursor. ccxt's cursor
    pagination depends on that behaviour (it moves to the next page through an error it retries).
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
    return chunk, (str(following) if chunk else "")
