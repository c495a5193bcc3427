"""The in-flight barrier's bookkeeping on real loopback sockets: data, flow control, FIN, unaccepted peers.

On a host with synchronous loopback everything lands before ``send`` returns, so these tests
check that the barrier recognises landed and flow-controlled bytes (never waiting on them, which
would deadlock the loop) and sees a FIN arrive. Asynchronous delivery itself (RPS) is exercised
by the benchmark (``benchmarks/virtual_time.py --rps``), since switching it on changes the host.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from virtualtime.barrier import InFlight, Tapped, _queued, _tcp_state, _unacknowledged
from virtualtime.loop import _is_loopback

TCP_CLOSE = 7
TCP_CLOSE_WAIT = 8


@contextlib.contextmanager
def _connection(*, accept: bool = True) -> Iterator[tuple[socket.socket, socket.socket | None, socket.socket]]:
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    server = listener.accept()[0] if accept else None
    try:
        yield client, server, listener
    finally:
        for sock in (client, server, listener):
            if sock is not None:
                sock.close()


def _settle(registry: InFlight, within_s: float = 1.0) -> list[str]:
    # Real-time settling: loopback may take a moment on some hosts.
    deadline = time.monotonic() + within_s
    while (stuck := registry.unsettled()) and time.monotonic() < deadline:
        time.sleep(0.001)
    return stuck


def test_bytes_queued_at_the_peer_are_landed_and_bytes_read_stay_landed() -> None:
    with _connection() as (client, server, _):
        registry = InFlight()
        sender, receiver = Tapped(client, registry), Tapped(server, registry)
        sender.sendall(b"x" * 1000)
        assert _settle(registry) == []
        assert _queued(server) == 1000
        assert receiver.recv(4096) == b"x" * 1000 and receiver.received == 1000
        assert registry.unsettled() == []


def test_bytes_held_back_by_flow_control_are_not_in_flight() -> None:
    # The peer reads nothing: the sender's kernel keeps what does not fit. Waiting for those bytes
    # would deadlock the loop (only the loop can read them), so the barrier must not count them.
    with _connection() as (client, server, _):
        client.setblocking(False)
        registry = InFlight()
        sender, _receiver = Tapped(client, registry), Tapped(server, registry)
        with contextlib.suppress(BlockingIOError):
            while True:
                sender.send(b"y" * 65536)
        assert sender.sent > _queued(server)  # some bytes are still on the sender's side
        assert _settle(registry) == []


def test_a_fin_is_pending_until_the_peer_has_it() -> None:
    with _connection() as (client, server, _):
        registry = InFlight()
        closing, peer = Tapped(client, registry), Tapped(server, registry)
        closing.sendall(b"bye")
        closing.close()
        assert closing.fin_sent
        assert _settle(registry) == []
        assert _tcp_state(server) == TCP_CLOSE_WAIT
        assert peer.recv(10) == b"bye" and peer.recv(10) == b"" and peer.eof_seen


def test_data_to_a_connection_not_yet_accepted_counts_by_the_senders_acknowledgements() -> None:
    with _connection(accept=False) as (client, _, listener):
        registry = InFlight()
        sender = Tapped(client, registry)
        sender.sendall(b"GET / HTTP/1.1\r\n\r\n")
        assert _settle(registry) == []
        assert _unacknowledged(client) == 0
        accepted, _ = listener.accept()  # the bytes were waiting in the accepted socket all along
        with accepted:
            assert accepted.recv(100).startswith(b"GET /")


def test_bytes_that_drew_a_reset_are_not_in_flight() -> None:
    # A WebSocket server closes; the client's close frame reaches a socket that is gone and draws
    # an RST. The kernel keeps counting those bytes as unacknowledged, forever.
    with _connection() as (client, server, _):
        registry = InFlight()
        sender, gone = Tapped(client, registry), Tapped(server, registry)
        gone.close()
        assert _settle(registry) == []
        sender.sendall(b"x" * 8)
        deadline = time.monotonic() + 1.0
        while _tcp_state(client) != TCP_CLOSE and time.monotonic() < deadline:
            time.sleep(0.001)
        assert _tcp_state(client) == TCP_CLOSE
        assert _settle(registry) == []


@pytest.mark.parametrize(("address", "loopback"), [
    (("127.0.0.1", 80), True), (("127.8.0.1", 80), True), (("::1", 80, 0, 0), True),
    (("localhost", 80), True), (("10.0.0.1", 80), False), (("example.com", 443), False), ("/tmp/sock", False),
])
def test_which_connects_hold_the_clock(address: object, loopback: bool) -> None:
    assert _is_loopback(address) is loopback
