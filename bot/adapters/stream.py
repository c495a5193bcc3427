"""A venue's private order stream over ccxt.pro, kept as a cache of the latest push per order.

The stream is an optimisation over REST lookups: it reconnects on any failure with backoff and
never gives up, and a confirmation that misses it falls back to REST. Both adapters use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from bot.adapters.ccxt_reports import order_report
from bot.values import ClientOrderId, OrderReport, VenueOrderId

RETRY_S = (0.5, 30.0)
# A watch is re-issued at least this often even when nothing arrives. ccxt.pro renews Binance's
# listen key once and afterwards only when watch_orders is called again (ccxt#6760); a watch left
# waiting goes deaf when the key lapses at 60 minutes. Renewal happens in the call, past 20 minutes.
REWATCH_S = 10 * 60.0
# A watch silent this many times in a row gets a fresh connection. ccxt.pro never re-sends an auth
# whose reply was lost: it waits on that socket forever, and a re-watch joins the wait. A quiet bot
# pays one reconnect every 20 minutes for it.
SILENT_REWATCHES_BEFORE_RECONNECT = 2
CACHE_SIZE = 2_000  # pushes kept for confirmation: the recent ones are all it asks for


class OrderStream:
    def __init__(self, pro: Any, log: logging.Logger) -> None:
        self._pro = pro
        self._log = log
        self._pushes: dict[str, OrderReport] = {}
        self._pushed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def close(self) -> None:
        """Stop watching; the client is the adapter's to close (it serves REST too)."""
        if self._task is None:
            return
        # asyncio.wait_for (Python 3.11) swallows a cancellation that meets a push arriving in the
        # same instant and returns the push: ask again until the task is gone.
        while not self._task.done():
            self._task.cancel()
            await asyncio.wait([self._task], timeout=1.0)

    async def _run(self) -> None:
        delay = RETRY_S[0]
        silent = 0
        while True:
            try:
                orders = await asyncio.wait_for(self._pro.watch_orders(), REWATCH_S)
            except TimeoutError:
                # Quiet: watch again, which lets ccxt renew what keeps the stream alive; quiet for
                # long, start over on a fresh connection in case this one is deaf.
                silent += 1
                if silent >= SILENT_REWATCHES_BEFORE_RECONNECT:
                    silent = 0
                    await self._reconnect()
                continue
            except (asyncio.CancelledError, Exception) as error:  # noqa: BLE001 - the stream's own supervisor
                task = asyncio.current_task()
                if isinstance(error, asyncio.CancelledError) and task is not None and task.cancelling():
                    raise  # the stream itself is being stopped
                # Anything else, a cancellation included (ccxt cancels the futures of a client closed
                # under the watch), is a failure the stream must outlive.
                self._log.warning("order stream failed, reconnecting in %.1f s: %r", delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_S[1])
                silent = 0
                continue
            delay = RETRY_S[0]
            silent = 0
            for order in orders:
                report = order_report(order, "push")
                if report is not None:
                    self._remember(report)
            self._pushed.set()
            self._pushed = asyncio.Event()

    async def _reconnect(self) -> None:
        self._log.info("order stream silent for %.0f s; reconnecting", REWATCH_S * SILENT_REWATCHES_BEFORE_RECONNECT)
        try:
            await self._pro.close_ws_clients()
        except Exception as error:  # noqa: BLE001 - the next watch connects afresh whatever the close did
            self._log.warning("closing the order stream's connection failed: %r", error)

    def _remember(self, report: OrderReport) -> None:
        for key in (report.venue_order_id, report.client_order_id):
            if key:
                self._pushes.pop(key, None)  # re-inserted last: the oldest entries go first
                self._pushes[key] = report
        while len(self._pushes) > CACHE_SIZE:
            del self._pushes[next(iter(self._pushes))]

    def pushed(self, venue_order_id: VenueOrderId | None, client_id: ClientOrderId | None) -> OrderReport | None:
        for key in (venue_order_id, client_id):
            if key and key in self._pushes:
                return self._pushes[key]
        return None

    def next_push(self, timeout_s: float) -> Awaitable[None]:
        # The batch to wait for is fixed now, when asked, not when the waiting starts: a batch that
        # lands in between must still count.
        pushed = self._pushed  # replaced by a fresh one at each batch

        async def wait() -> None:
            try:
                await asyncio.wait_for(pushed.wait(), timeout_s)
            except TimeoutError:
                pass

        return wait()

    async def wait_for_push(
        self, venue_order_id: VenueOrderId | None, client_id: ClientOrderId | None, timeout_s: float
    ) -> OrderReport | None:
        """The latest push for the order once it is final, or whatever arrived by the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (found := self.pushed(venue_order_id, client_id)) is None or not found.status.is_final:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return found
            try:
                await asyncio.wait_for(self._pushed.wait(), remaining)
            except TimeoutError:
                return self.pushed(venue_order_id, client_id)
        return found
