"""Repeating a venue call the venue refused without effect (``RetryLater``); nothing else is retried here."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.errors import RetryLater

T = TypeVar("T")


async def retrying(call: Callable[[], Awaitable[T]], *, attempts: int, delay_s: float) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except RetryLater:
            if attempt == attempts:
                raise
            await asyncio.sleep(delay_s * attempt)
    raise AssertionError("unreachable: attempts must be at least 1")
