"""The virtual loop: time costs nothing, moves only to timer deadlines, and is the same for everyone."""

from __future__ import annotations

import asyncio
import collections
import datetime
import signal
import time
from typing import Any

import aiohttp
import ccxt
import pytest
from aiohttp import web

from simulator.server import bybit_engine, listen, serve_bybit
from virtualtime.loop import VirtualEventLoop
from virtualtime.runtime import DEFAULT_START_MS, LoopClock, new_virtual_loop, run, virtual_loop

BTC = "BTC/USDT:USDT"


def _loop() -> VirtualEventLoop:
    loop = asyncio.get_running_loop()
    assert isinstance(loop, VirtualEventLoop)
    return loop


def test_an_hour_of_sleep_costs_no_wall_time_and_every_clock_agrees() -> None:
    async def main() -> tuple[int, int, float, datetime.datetime, float, float]:
        monotonic, perf = time.monotonic(), time.perf_counter()
        await asyncio.sleep(3600)
        return (_loop().time_ns(), time.time_ns(), time.time(), datetime.datetime.now(),
                time.monotonic() - monotonic, time.perf_counter() - perf)

    started = time.perf_counter_ns()  # the real clock: the wall bridge is not active out here
    loop_ns, time_ns, seconds, now, monotonic_s, perf_s = run(main)
    assert time.perf_counter_ns() - started < 20 * 10**9
    expected = (DEFAULT_START_MS + 3_600_000) * 1_000_000
    assert loop_ns == time_ns == expected
    assert seconds == expected / 1e9
    assert now == datetime.datetime(2026, 1, 1, 1, 0, 0)
    assert monotonic_s == perf_s == 3600.0
    assert abs(time.time() - time.clock_gettime(time.CLOCK_REALTIME)) < 5  # real again once the loop closed


def test_only_one_virtual_loop_at_a_time_owns_the_wall_clock() -> None:
    first = new_virtual_loop()
    try:
        with pytest.raises(RuntimeError, match=r"another virtual loop's bridge\) is already active"):
            new_virtual_loop()
    finally:
        first.close()
    new_virtual_loop().close()  # closing the first released the wall clock


async def _slow_server(delay_s: float) -> tuple[web.AppRunner, str]:
    async def handler(_: web.Request) -> web.Response:
        await asyncio.sleep(delay_s)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_get("/", handler)
    runner, base_url = await listen(app)
    return runner, f"{base_url}/"


@pytest.mark.parametrize(("delay_s", "outcome"), [(0.9, "late"), (1.5, "timeout")])
def test_a_client_timeout_fires_exactly_on_time_and_not_before(delay_s: float, outcome: str) -> None:
    async def main() -> tuple[str, int]:
        runner, url = await _slow_server(delay_s)
        started = _loop().elapsed_ns
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
                async with session.get(url) as response:
                    return await response.text(), _loop().elapsed_ns - started
        except asyncio.TimeoutError:
            return "timeout", _loop().elapsed_ns - started
        finally:
            await runner.cleanup()

    text, took_ns = run(main)
    assert text == outcome
    assert took_ns == (900_000_000 if outcome == "late" else 1_000_000_000)


def test_ccxt_reads_the_venue_clock_and_its_rate_limiter_spaces_calls_in_virtual_time() -> None:
    async def main() -> dict[str, Any]:
        loop = _loop()
        async with serve_bybit(engine=bybit_engine(clock=LoopClock(loop), seed=1)) as venue:
            client = venue.rest_client()
            await client.load_markets()
            created = []
            for _ in range(4):
                order = await client.create_order(BTC, "market", "buy", 0.01)
                created.append(venue.engine.find_order(venue.account.account_id, order_id=order["id"]))
            await asyncio.sleep(3600)
            result = {
                "gaps": [b.created_ms - a.created_ms for a, b in zip(created, created[1:])],
                "ccxt_ms": client.milliseconds(),
                "venue_ms": venue.engine.now_ms(),
            }
            client.options["timeDifference"] = 20_000  # ccxt signs 20 s in the past
            with pytest.raises(ccxt.InvalidNonce, match="10002"):
                await client.fetch_balance()
            assert venue.venue.internal_errors == []
            return result

    result = run(main)
    assert result["ccxt_ms"] == result["venue_ms"]
    # ccxt's leaky bucket: v5/order/create costs 2.5 units of bybit's 20 ms rateLimit.
    assert result["gaps"] == [50, 50, 50]


def test_thread_work_holds_the_clock() -> None:
    async def main() -> int:
        before = _loop().elapsed_ns
        await asyncio.get_running_loop().run_in_executor(None, time.sleep, 0.05)
        await asyncio.to_thread(time.sleep, 0.05)
        return _loop().elapsed_ns - before

    assert run(main) == 0


def test_quiesce_runs_what_is_due_now_without_moving_the_clock() -> None:
    async def main() -> tuple[list[str], int]:
        seen: list[str] = []

        async def chain(depth: int) -> None:
            seen.append(f"step {depth}")
            if depth < 3:
                asyncio.ensure_future(chain(depth + 1))

        later = asyncio.ensure_future(asyncio.sleep(5))
        asyncio.ensure_future(chain(0))
        before = _loop().elapsed_ns
        await _loop().quiesce()
        moved = _loop().elapsed_ns - before
        later.cancel()
        return seen, moved

    seen, moved = run(main)
    assert seen == ["step 0", "step 1", "step 2", "step 3"]
    assert moved == 0


def _scenario() -> list[str]:
    async def main() -> list[str]:
        loop = _loop()
        trace: list[str] = []
        async with serve_bybit(engine=bybit_engine(clock=LoopClock(loop), seed=5)) as venue:
            venue.engine.subscribe(lambda batch: trace.extend(f"{loop.elapsed_ns} {e!r}" for e in batch))
            client = venue.rest_client()
            pro = venue.pro_client()
            watching = asyncio.ensure_future(pro.watch_orders(BTC))
            await venue.venue.streams.wait_subscribed("order")
            for delay in (0.5, 0.75, 1.125):
                await client.create_order(BTC, "market", "buy", 0.01)
                await asyncio.sleep(delay)
            trace.append(f"watched {[o['id'] for o in await watching]}")
            await asyncio.sleep(300)
            venue.engine.set_price("BTCUSDT", "59000")
            trace.append(f"positions {[(p['contracts'], p['entryPrice']) for p in await client.fetch_positions()]}")
        return trace

    return run(main)


def test_the_same_scenario_gives_the_same_trace() -> None:
    first = _scenario()
    assert len(first) > 10
    assert _scenario() == first


def test_the_private_asyncio_hooks_it_relies_on_still_exist() -> None:
    """Fails loudly if a Python upgrade moves what the virtual loop overrides."""
    loop = VirtualEventLoop(start_ns=0)
    try:
        assert isinstance(loop._scheduled, list)
        assert isinstance(loop._ready, collections.deque) and isinstance(loop._stopping, bool)
        assert callable(asyncio.BaseEventLoop._run_once)  # type: ignore[attr-defined]
        # What the loop's own iterations (VirtualEventLoop._run_once) do as asyncio's do.
        assert isinstance(loop._timer_cancelled_count, int) and isinstance(loop._debug, bool)
        assert isinstance(asyncio.base_events._MIN_SCHEDULED_TIMER_HANDLES, int)  # type: ignore[attr-defined]
        assert isinstance(asyncio.base_events._MIN_CANCELLED_TIMER_HANDLES_FRACTION, float)  # type: ignore[attr-defined]
        timer = loop.call_later(1, lambda: None)
        assert timer._scheduled is True and callable(timer._run)  # type: ignore[attr-defined]
        timer.cancel()
        assert callable(asyncio.SelectorEventLoop._make_socket_transport)  # type: ignore[attr-defined]
        assert callable(asyncio.SelectorEventLoop._make_ssl_transport)  # type: ignore[attr-defined]
        assert hasattr(loop, "_selector") and hasattr(loop, "_clock_resolution")
        assert loop._ssock is not None  # the self-pipe, which call_soon_threadsafe writes to
        assert callable(asyncio.selector_events.BaseSelectorEventLoop._accept_connection)  # type: ignore[attr-defined]
    finally:
        loop.close()


def test_a_timer_lands_on_its_nanosecond_and_the_clock_never_stalls() -> None:
    # 0.001 + 0.029 is 0.030000000000000002 in floats: the jump must still land on 30 ms exactly.
    # After ~100 days, float seconds no longer resolve a nanosecond: a tiny sleep must still end.
    def alarm(*_: object) -> None:
        raise TimeoutError("the virtual clock stalled: a tiny sleep never became due")

    async def main() -> tuple[int, int]:
        await asyncio.sleep(0.001)
        await asyncio.sleep(0.029)
        exact = _loop().elapsed_ns
        await asyncio.sleep(300 * 86_400)
        before = _loop().elapsed_ns
        for _ in range(3):
            await asyncio.sleep(1e-9)
        return exact, _loop().elapsed_ns - before

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    try:
        exact, tiny = run(main)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert exact == 30_000_000
    assert 3 <= tiny < 100  # a few ns late at most, where floats cannot say better


async def _poll_ms(count: int) -> None:
    """What ccxt's rate limiter does while it waits for tokens."""
    for _ in range(count):
        await asyncio.sleep(0.001)


def test_a_quiet_loop_skips_its_polls_yet_every_reply_lands_on_its_instant() -> None:
    async def main() -> tuple[str, int, int, int]:
        runner, url = await _slow_server(0.25)
        try:
            async with aiohttp.ClientSession() as session:
                skipped = _loop().polls_skipped
                started = _loop().elapsed_ns
                poller = asyncio.ensure_future(_poll_ms(1000))
                async with session.get(url) as response:
                    text = await response.text()
                took = _loop().elapsed_ns - started
                await poller
                return text, took, _loop().elapsed_ns - started, _loop().polls_skipped - skipped
        finally:
            await runner.cleanup()

    text, took_ns, polled_ns, skipped = run(main)
    assert text == "late"
    assert took_ns == 250_000_000  # not a millisecond late for the polls skipped beside it
    assert polled_ns == 1_000_000_000
    assert skipped >= 1000  # at least one skipped poll per 1 ms wake-up: nothing could have been ready


def _interleaving() -> list[str]:
    """Callbacks, timers due now, cancelled timers, tasks and futures, woven together: the order in
    which they run is what asyncio's iterations make of them, and nothing else."""
    loop = asyncio.get_event_loop()
    order: list[str] = []

    def chain(name: str, depth: int) -> None:
        order.append(f"{name}{depth}")
        if depth:
            loop.call_soon(chain, name, depth - 1)
            if depth % 2:
                loop.call_later(0, order.append, f"{name}{depth}-timer")
            if depth % 3 == 0:
                loop.call_later(0, order.append, "never").cancel()

    async def task(name: str) -> None:
        for step in range(4):
            order.append(f"{name}-step{step}")
            await asyncio.sleep(0)
        future = loop.create_future()
        loop.call_soon(future.set_result, None)
        await future
        order.append(f"{name}-done")

    async def main() -> None:
        loop.call_soon(chain, "a", 7)
        loop.call_soon(chain, "b", 5)
        await asyncio.gather(task("t1"), task("t2"), asyncio.sleep(0.001))
        order.append("end")
        chain("z", 4)  # outlives this run: what asyncio leaves for the next run waits for it

    loop.run_until_complete(main())
    order.append("next run")
    loop.run_until_complete(asyncio.sleep(0))
    return order


def test_callbacks_run_in_the_order_a_plain_asyncio_loop_runs_them() -> None:
    # The virtual loop runs a quiet loop's next iterations itself, without polling: they must come
    # out exactly as asyncio's own iterations would.
    plain = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(plain)
        expected = _interleaving()
    finally:
        asyncio.set_event_loop(None)
        plain.close()
    with virtual_loop() as loop:
        assert _interleaving() == expected
        assert loop.iterations_inline > 10  # the loop's own iterations ran, not only asyncio's


def test_a_loop_polls_every_time_while_it_holds_a_socket_whose_peer_is_outside() -> None:
    import socket
    import threading

    async def main() -> tuple[int, int, bytes]:
        loop = _loop()
        ours, theirs = socket.socketpair()  # not a tapped transport: its bytes may come from anywhere
        ours.setblocking(False)
        got = loop.create_future()
        loop.add_reader(ours.fileno(), lambda: got.done() or got.set_result(ours.recv(16)))
        try:
            skipped = loop.polls_skipped
            await _poll_ms(100)
            while_held = loop.polls_skipped - skipped
            threading.Timer(0.01, theirs.send, (b"from outside",)).start()
            while not got.done():  # the clock runs on (nothing holds it): only polling can see the bytes
                await asyncio.sleep(0.001)
            loop.remove_reader(ours.fileno())
            skipped = loop.polls_skipped
            await _poll_ms(100)
            return while_held, loop.polls_skipped - skipped, got.result()
        finally:
            ours.close()
            theirs.close()

    while_held, after, received = run(main)
    assert while_held == 0
    assert received == b"from outside"
    assert after >= 100  # the outside socket gone, the loop is quiet again


class _FirstBytes(asyncio.Protocol):
    def __init__(self) -> None:
        self.got: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        if not self.got.done():
            self.got.set_result(data)


def test_bytes_written_to_a_unix_socket_from_outside_land_before_time_moves() -> None:
    # A socketpair's address pair names no peer: such a transport is never the loop's own.
    import socket

    async def main() -> tuple[bytes, int]:
        loop = _loop()
        ours, theirs = socket.socketpair()
        transport, protocol = await loop.create_unix_connection(_FirstBytes, sock=ours)
        try:
            await asyncio.sleep(0.001)  # the loop goes quiet
            started = loop.elapsed_ns
            loop.call_soon(theirs.send, b"hi")  # a raw socket: nothing the loop tracks
            data = await asyncio.wait_for(protocol.got, 5)
            return data, loop.elapsed_ns - started
        finally:
            transport.close()
            theirs.close()

    assert run(main) == (b"hi", 0)


def test_a_connection_made_outside_the_loop_is_accepted_before_time_moves() -> None:
    import socket

    async def main() -> int:
        loop = _loop()
        accepted: asyncio.Future[int] = loop.create_future()

        class Accept(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                if not accepted.done():
                    accepted.set_result(loop.elapsed_ns)

        server = await loop.create_server(Accept, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        await asyncio.sleep(0.001)
        started = loop.elapsed_ns
        raw = socket.create_connection(("127.0.0.1", port))  # a blocking library's connect, not sock_connect
        try:
            return await asyncio.wait_for(asyncio.shield(accepted), 0.010) - started
        finally:
            raw.close()
            server.close()

    assert run(main) == 0


def test_tls_connections_travel_under_the_in_flight_barrier() -> None:
    async def main() -> tuple[int, int]:
        loop = _loop()
        async with serve_bybit(engine=bybit_engine(clock=LoopClock(loop), seed=1), tls=True) as venue:
            client = venue.rest_client()
            await client.fetch_time()  # over HTTPS, the venue's local certificate trusted
            tapped = [t for t in loop._barrier._by_fd.values() if not t.closed]
            # Both ends of the TLS connection are tapped sockets whose peer is the other: the loop's own.
            own = sum(loop._barrier.peer_is_ours(t.fd) for t in tapped)
            return len(tapped), own

    tapped, own = run(main)
    assert tapped >= 2 and own == tapped


def test_sendfile_falls_back_to_writes_the_barrier_counts(tmp_path: Any) -> None:
    payload = b"x" * 50_000
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)

    async def main() -> tuple[int, int]:
        loop = _loop()
        received = bytearray()
        done: asyncio.Future[None] = loop.create_future()

        class Sink(asyncio.Protocol):
            def data_received(self, data: bytes) -> None:
                received.extend(data)
                if len(received) >= len(payload) and not done.done():
                    done.set_result(None)

        server = await loop.create_server(Sink, "127.0.0.1", 0)
        transport, _ = await loop.create_connection(asyncio.Protocol, *server.sockets[0].getsockname()[:2])
        try:
            with path.open("rb") as file:
                await loop.sendfile(transport, file)
            await asyncio.wait_for(done, 5)
            sender = transport.get_extra_info("socket")
            tapped = loop._barrier._by_fd[sender.fileno()]
            return tapped.sent, len(received)
        finally:
            transport.close()
            server.close()

    assert run(main) == (len(payload), len(payload))


def test_a_transport_refused_for_its_socket_leaves_the_live_tap_in_place() -> None:
    async def main() -> bool:
        loop = _loop()
        server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
        transport, _ = await loop.create_connection(asyncio.Protocol, *server.sockets[0].getsockname()[:2])
        try:
            sock = transport.get_extra_info("socket")
            live = loop._barrier._by_fd[sock.fileno()]

            def refuse(tapped: Any) -> Any:
                raise RuntimeError("the fd already has a transport")

            with pytest.raises(RuntimeError):
                loop._tapped(live.sock, refuse)
            return loop._barrier._by_fd[sock.fileno()] is live and loop._barrier.peer_is_ours(sock.fileno())
        finally:
            transport.close()
            server.close()

    assert run(main)


def test_a_tripped_time_limit_allows_the_configured_span_again_and_no_more() -> None:
    from virtualtime.loop import VirtualTimeError

    loop = new_virtual_loop(max_virtual_s=10)
    try:
        with pytest.raises(VirtualTimeError, match=r"limit \(max_virtual_s=10 s\)"):
            loop.run_until_complete(asyncio.sleep(1000))
        loop.run_until_complete(asyncio.sleep(5))  # clean-up time: within the span allowed again
        assert loop.time_ns() - loop.start_ns == 5_000_000_000
        with pytest.raises(VirtualTimeError, match=r"limit \(max_virtual_s=10 s\)"):  # the far timer still may not run
            loop.run_until_complete(asyncio.sleep(1000))
    finally:
        loop.close()


def test_a_time_limit_set_after_the_loop_was_made_trips_the_same_way() -> None:
    from virtualtime.loop import VirtualTimeError

    loop = new_virtual_loop()
    loop.max_elapsed_ns = 10_000_000_000
    try:
        loop.run_until_complete(asyncio.sleep(5))
        with pytest.raises(VirtualTimeError, match=r"limit \(max_virtual_s=10 s\)"):
            loop.run_until_complete(asyncio.sleep(1000))
        assert loop.max_elapsed_ns == 15_000_000_000  # the span again, from the trip at 5 s
    finally:
        loop.close()
