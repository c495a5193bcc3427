"""One read in flight per ccxt client, lookups ahead of scans.

ccxt keeps the raw answer of the latest request on the client (``last_json_response``), and the
adapters check that answer to tell a venue's own "nothing" from an empty 200: so reads go one at a
time. A FIFO lock made the opener's lookup of its own new stop wait behind every account-wide scan
the synchronizer had queued; with the venue slow, each scan held the client for a whole timeout and
a filled position waited 64 s for its stop (found by the fuzzer, Bybit seed 76). A lookup of one
order or one position now goes ahead of the scans waiting, in order among its own kind.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class ReadGate:
    def __init__(self) -> None:
        self._held = False
        self._lookups: deque[asyncio.Future[None]] = deque()
        self._scans: deque[asyncio.Future[None]] = deque()

    @contextlib.asynccontextmanager
    async def held(self, *, scan: bool) -> AsyncIterator[None]:
        """Hold the gate for one read; ``scan``: an account-wide read, which waits for the lookups."""
        if self._held:
            waiting = self._scans if scan else self._lookups
            turn = asyncio.get_running_loop().create_future()
            waiting.append(turn)
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():
                    self._pass_on()  # handed the gate as it was cancelled: the next one takes it
                elif turn in waiting:  # a hand-over meanwhile may have skipped it already
                    waiting.remove(turn)
                raise
        self._held = True
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        # Handed over directly, never left free in between: a read arriving meanwhile cannot jump in.
        for waiting in (self._lookups, self._scans):
            while waiting:
                turn = waiting.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._held = False
