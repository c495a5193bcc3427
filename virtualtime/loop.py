"""An asyncio event loop whose clock moves only when nothing can run now.

Whenever the loop would wait for a timer, the virtual clock jumps straight to that timer's
deadline instead. It never moves while:
- bytes written to a loopback socket of this loop have not yet landed in the peer's
  receive queue (the in-flight barrier);
- executor or held thread work is pending;
- anything is ready at the current instant.
Simultaneously ready sockets come back in registration order, not kernel order, so a
run is a function of its inputs only.

This leans on private asyncio details (``_scheduled``, ``_make_socket_transport``); the
determinism contract pins the Python versions, and a smoke test fails if they change.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import heapq
import ipaddress
import selectors
import socket
import time
from collections.abc import Callable
from typing import Any

from virtualtime.barrier import InFlight, Tapped

NS_PER_S = 1_000_000_000
# How long the loop waits in real time, clock frozen, for loopback bytes or thread work
# before it declares the run broken. Far above any healthy delay.
GIVE_UP_S = 10.0
# Real-time step while waiting with the clock frozen.
_POLL_S = 0.0002
# A quiet loop (see ``_only_own_io``) skips the zero-timeout polls it makes while callbacks are ready,
# but never more than this many in a row: a long chain of callbacks still hears from outside.
_FORCE_POLL_EVERY = 64
# asyncio prunes cancelled timers from its heap (instead of only from its head) past these.
_MIN_SCHEDULED = asyncio.base_events._MIN_SCHEDULED_TIMER_HANDLES  # type: ignore[attr-defined]
_MAX_CANCELLED_FRACTION = asyncio.base_events._MIN_CANCELLED_TIMER_HANDLES_FRACTION  # type: ignore[attr-defined]
# Captured at import: freezegun replaces time.monotonic, never clock_gettime.
_real_monotonic = time.clock_gettime
_REAL_CLOCK = time.CLOCK_MONOTONIC


# A listening socket's reader: it becomes ready only when someone connects.
_ACCEPT = asyncio.selector_events.BaseSelectorEventLoop._accept_connection  # type: ignore[attr-defined]


class VirtualTimeError(RuntimeError):
    """The virtual loop could not keep its guarantees (a stuck barrier or held work): the run is void."""


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    def __init__(self, loop: VirtualEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._order: dict[int, int] = {}
        self._registrations = 0

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = super().register(fileobj, events, data)
        self._registrations += 1
        self._order[key.fd] = self._registrations
        self._loop._fds_changed()
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        key = super().unregister(fileobj)
        self._order.pop(key.fd, None)
        self._loop._fds_changed()
        return key

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = super().modify(fileobj, events, data)
        self._loop._fds_changed()
        return key

    def _sorted(self, events: list[tuple[selectors.SelectorKey, int]]) -> list[tuple[selectors.SelectorKey, int]]:
        if len(events) < 2:
            return events
        return sorted(events, key=lambda event: self._order.get(event[0].fd, 0))

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        loop = self._loop
        if timeout == 0 and loop._may_skip_poll() and not loop._stalled():
            loop._skip_poll()
            return []
        if loop._barrier.has_pending:
            loop._barrier.wait_until_landed(give_up_s=GIVE_UP_S)
        loop._unpolled = 0
        # Set before polling: any I/O from here on clears it.
        loop._quiet = loop._only_own_io()
        events = super().select(0)
        if events:
            loop._quiet = False
            return self._sorted(events)
        if timeout == 0 and not loop._stalled():
            return []
        deadline = _real_monotonic(_REAL_CLOCK) + GIVE_UP_S
        while loop._held_count:
            # Thread work is pending: wait for it in real time with the clock frozen.
            events = super().select(_POLL_S)
            if events:
                return self._sorted(events)
            if _real_monotonic(_REAL_CLOCK) > deadline:
                raise VirtualTimeError(
                    f"{loop._held_count} thread/executor job(s) still pending after {GIVE_UP_S} s real time"
                )
        if loop._wake_quiescers():
            return []
        when = loop._next_deadline()
        if when is None:
            # No timers at all: only outside I/O (or another thread) can wake the loop.
            return self._sorted(super().select(timeout))
        loop._advance_to(when)
        return []


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """A selector event loop on a virtual clock that starts at ``start_ns`` (Unix epoch ns)."""

    def __init__(self, *, start_ns: int, max_elapsed_ns: int | None = None) -> None:
        self._elapsed_ns = 0
        self.start_ns = start_ns
        # How far the clock may run: a test waiting for what never comes (a watch with nothing to
        # hear) would otherwise spin through virtual days, costing wall seconds each, for ever.
        self.max_elapsed_ns = max_elapsed_ns
        self._held_count = 0
        self._quiescers: list[asyncio.Future[None]] = []
        self._barrier = InFlight(on_io=self._io_happened)
        # The last poll found nothing and no I/O of this loop happened since: polling again would
        # find nothing, so the loop skips it (the cost of a jump is mostly its polls).
        self._quiet = False
        self._unpolled = 0
        self._own_io: bool | None = None  # cache of _only_own_io(), dropped when the fd set changes
        self.polls_skipped = 0
        self.iterations_inline = 0  # of those, iterations _run_once ran itself (without run_forever)
        self._jumps = 0
        self._on_close: list[Callable[[], None]] = []
        super().__init__(_VirtualSelector(self))

    def add_close_callback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once, when the loop closes (e.g. to stop a wall-clock bridge)."""
        self._on_close.append(callback)

    def close(self) -> None:
        try:
            super().close()
        finally:
            callbacks, self._on_close = self._on_close, []
            for callback in reversed(callbacks):
                callback()

    # ------------------------------------------------------------------ the clock

    def time(self) -> float:
        return self._elapsed_ns / NS_PER_S

    def time_ns(self) -> int:
        """Virtual wall time: Unix epoch nanoseconds, exact."""
        return self.start_ns + self._elapsed_ns

    @property
    def max_elapsed_ns(self) -> int | None:
        """How far the clock may go from the start (None: no limit). Each time a timer past it trips the
        limit, the same span is allowed again from then."""
        return self._max_elapsed_ns

    @max_elapsed_ns.setter
    def max_elapsed_ns(self, value: int | None) -> None:
        self._max_elapsed_ns = self._limit_ns = value

    @property
    def elapsed_ns(self) -> int:
        return self._elapsed_ns

    @property
    def jumps(self) -> int:
        """How many times the clock jumped to a timer: a cheap measure of simulated waiting."""
        return self._jumps

    def _next_deadline(self) -> float | None:
        # _run_once drops cancelled handles from the heap's head before it selects.
        scheduled: list[asyncio.TimerHandle] = self._scheduled  # type: ignore[attr-defined]
        if not scheduled:
            return None
        head = scheduled[0]
        if not head.cancelled():
            return head.when()
        return min((h.when() for h in scheduled if not h.cancelled()), default=None)

    def _stalled(self) -> bool:
        """Nothing is ready, yet the head timer is not due: asyncio asked for a zero wait
        because float seconds cannot tell its deadline from now (after ~100 virtual days).
        Only a jump makes it due."""
        if self._ready or self._stopping:  # type: ignore[attr-defined]
            return False
        scheduled: list[asyncio.TimerHandle] = self._scheduled  # type: ignore[attr-defined]
        return bool(scheduled) and scheduled[0].when() >= self.time() + self._clock_resolution  # type: ignore[attr-defined]

    def _advance_to(self, when: float) -> None:
        # Jump to the timer's deadline itself, to the nearest nanosecond: a rounded step (or
        # ceil, which lands 1 ns late whenever float addition rounds up) accumulates drift.
        target = round(when * NS_PER_S)
        # asyncio runs a timer once when < time() + clock resolution. Make sure the head timer
        # is due after the jump, or the loop would select, jump nowhere and spin forever (floats
        # stop resolving single nanoseconds after ~100 days of virtual time).
        while target / NS_PER_S + self._clock_resolution <= when:  # type: ignore[attr-defined]
            target += 1
        if self._max_elapsed_ns is not None and target > self._max_elapsed_ns:
            # Each trip allows the configured span again from now: clean-up can finish, and a loop
            # shared by later tests, or a teardown waiting for what never comes, still cannot spin.
            limit = self._limit_ns
            assert limit is not None
            self._max_elapsed_ns = self._elapsed_ns + limit
            raise VirtualTimeError(
                f"the next timer is {target / NS_PER_S:,.0f} s of virtual time after the start, past this loop's"
                f" limit (max_virtual_s={limit / NS_PER_S:,.0f} s): something is waiting for what never comes"
                " (a watch with nothing to hear, a future nobody sets). If the run means to go that far, raise the"
                " limit (@pytest.mark.virtual_time(max_virtual_s=...), new_virtual_loop(max_virtual_s=...))"
            )
        if target > self._elapsed_ns:
            self._elapsed_ns = target
            self._jumps += 1

    # ------------------------------------------------------------------ when polling can be skipped

    def _may_skip_poll(self) -> bool:
        # Nothing this loop did since its last empty poll can have made a socket ready. Only ever
        # asked while callbacks are ready: the poll before a clock jump is never skipped, so whatever
        # the loop cannot account for (a signal, a connection made by other means) is seen before
        # time moves.
        return self._quiet and self._unpolled < _FORCE_POLL_EVERY

    def _skip_poll(self) -> None:
        self._unpolled += 1
        self.polls_skipped += 1

    def _io_happened(self) -> None:
        self._quiet = False

    def _fds_changed(self) -> None:
        self._quiet = False
        self._own_io = None

    def _only_own_io(self) -> bool:
        """Whether only this loop's own actions can make a registered fd ready: every fd is the
        self-pipe (written by ``call_soon_threadsafe``), a listening socket (readied by this loop's
        ``sock_connect``), or a tapped TCP socket whose peer is a tapped socket of this loop."""
        if self._own_io is None:
            self._own_io = all(self._is_own(key) for key in self._selector.get_map().values())  # type: ignore[attr-defined]
        return self._own_io

    def _is_own(self, key: selectors.SelectorKey) -> bool:
        ssock = self._ssock  # type: ignore[attr-defined]
        if ssock is not None and key.fd == ssock.fileno():
            return True
        reader = key.data[0] if isinstance(key.data, tuple) else None
        callback = getattr(reader, "_callback", None)
        if getattr(callback, "__func__", None) is _ACCEPT:
            return True
        return self._barrier.peer_is_ours(key.fd)

    def call_soon_threadsafe(  # type: ignore[override]
        self, callback: Callable[..., Any], *args: Any, context: Any = None
    ) -> asyncio.Handle:
        self._quiet = False
        return super().call_soon_threadsafe(callback, *args, context=context)

    def _run_once(self) -> None:
        super()._run_once()  # type: ignore[misc]
        # The iterations that follow while callbacks stay ready and the loop stays quiet would each
        # skip their poll (see _VirtualSelector.select) and find no timer due, the clock not having
        # moved: run them here, as asyncio would, minus the trip through run_forever and the selector.
        ready: collections.deque[asyncio.Handle] = self._ready  # type: ignore[attr-defined]
        while ready and not self._stopping and not self._debug and self._may_skip_poll():  # type: ignore[attr-defined]
            scheduled: list[asyncio.TimerHandle] = self._scheduled  # type: ignore[attr-defined]
            if scheduled and (scheduled[0].cancelled() or len(scheduled) > _MIN_SCHEDULED
                              and self._timer_cancelled_count > len(scheduled) * _MAX_CANCELLED_FRACTION):  # type: ignore[attr-defined]
                return  # asyncio's own iteration prunes cancelled timers first
            self._skip_poll()
            self.iterations_inline += 1
            end = self.time() + self._clock_resolution  # type: ignore[attr-defined]
            while scheduled and scheduled[0].when() < end:
                due = heapq.heappop(scheduled)
                due._scheduled = False  # type: ignore[attr-defined]
                ready.append(due)
            for _ in range(len(ready)):
                handle = ready.popleft()
                if not handle.cancelled():
                    handle._run()  # type: ignore[attr-defined]
            del handle  # as asyncio drops its last handle: one kept would hold what it ran

    def run_forever(self) -> None:
        # Code outside the loop may have touched its sockets between runs.
        self._quiet = False
        super().run_forever()

    # ------------------------------------------------------------------ settling

    async def quiesce(self) -> None:
        """Return once everything due at the current instant has run (the clock has not moved)."""
        waiter: asyncio.Future[None] = self.create_future()
        self._quiescers.append(waiter)
        await waiter

    def _wake_quiescers(self) -> bool:
        if not self._quiescers:
            return False
        waiters, self._quiescers = self._quiescers, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)
        return True

    # ------------------------------------------------------------------ thread work holds the clock

    def hold(self, future: concurrent.futures.Future[Any] | asyncio.Future[Any]) -> None:
        """Freeze the clock until ``future`` (work in another thread) is done."""
        self._held_count += 1

        def release(_: object) -> None:
            self.call_soon_threadsafe(self._release)

        future.add_done_callback(release)

    def _release(self) -> None:
        self._held_count -= 1

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., Any], *args: Any
    ) -> asyncio.Future[Any]:
        future = super().run_in_executor(executor, func, *args)
        self._held_count += 1
        future.add_done_callback(lambda _: self._release())
        return future

    # ------------------------------------------------------------------ sockets are tapped for the barrier

    async def sock_connect(self, sock: socket.socket, address: Any) -> None:
        # A loopback handshake is in flight until connect completes: hold the clock meanwhile,
        # or a connect timeout could fire on a SYN still between the kernels.
        self._quiet = False
        if not _is_loopback(address):
            return await super().sock_connect(sock, address)
        self._held_count += 1
        try:
            return await super().sock_connect(sock, address)
        finally:
            self._held_count -= 1
            self._quiet = False

    def _make_ssl_transport(self, rawsock: socket.socket, *args: Any, **kwargs: Any) -> Any:
        # TLS rides on a plain socket transport too: tap its socket, or TLS bytes would travel
        # outside the in-flight barrier.
        return self._tapped(rawsock, lambda tapped: super(VirtualEventLoop, self)._make_ssl_transport(  # type: ignore[misc]
            tapped, *args, **kwargs))

    def _make_socket_transport(self, sock: socket.socket, protocol: Any, waiter: Any = None, *,
                               extra: Any = None, server: Any = None) -> Any:
        return self._tapped(sock, lambda tapped: super(VirtualEventLoop, self)._make_socket_transport(  # type: ignore[misc]
            tapped, protocol, waiter, extra=extra, server=server))

    def _tapped(self, sock: socket.socket, make: Callable[[Tapped], Any]) -> Any:
        tapped = Tapped(sock, self._barrier)
        self._fds_changed()
        try:
            return make(tapped)
        except BaseException:
            self._barrier.discard(tapped)  # refused (e.g. the fd already has a transport): forget it
            raise

    async def _sock_sendfile_native(self, sock: Any, file: Any, offset: int, count: int | None) -> int:
        # os.sendfile writes past the tap, and bytes it sent would be missing from the barrier's
        # count for good: make asyncio fall back to plain writes, which the tap sees.
        raise asyncio.SendfileNotAvailableError("the virtual loop counts every byte sent; sendfile bypasses it")


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) and address else None
    if not isinstance(host, str):
        return False
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return host == "localhost"
