"""The in-flight barrier: the clock must not move while loopback bytes are still travelling.

On most Linux hosts a loopback ``send`` lands in the peer's receive queue before it returns,
but with receive packet steering, traffic shaping or user-space network stacks (common in CI
sandboxes) delivery is asynchronous. A loop that jumps its clock then would see a reply
"time out" that was merely still on the wire. So every socket of the loop is tapped, and a
connection is settled only when nothing it sent is between the two kernels:
- data: the peer has read or queued (FIONREAD) every byte sent to it; or, when the peer is not
  (yet) one of this loop's sockets, e.g. a connection still in the accept queue, the sender's
  kernel holds no transmitted-but-unacknowledged bytes (SIOCOUTQ minus SIOCOUTQNSD). Bytes
  the sender's kernel has not transmitted yet wait on flow control, i.e. on the peer reading,
  which the loop will do: they are not in flight;
- FIN: after a socket closes or shuts down its write side, the peer's TCP state has left
  ESTABLISHED (it saw the FIN, or a reset);
- RST: bytes sent to a peer that already closed are answered with a reset; a reset connection
  has nothing in flight, whatever its send queue still counts;
- SYN: a loopback ``connect`` in progress holds the clock (see ``VirtualEventLoop.sock_connect``).
"""

from __future__ import annotations

import array
import fcntl
import socket
import struct
import termios
import time
from collections.abc import Callable
from typing import Any

_real_monotonic = time.clock_gettime
_REAL_CLOCK = time.CLOCK_MONOTONIC
_POLL_S = 0.0001
_SIOCOUTQNSD = 0x894B  # linux/sockios.h: bytes in the send queue not yet transmitted
_TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_TCP_ESTABLISHED = 1
_TCP_CLOSE = 7

Address = tuple[Any, ...]


def _ioctl_int(sock: socket.socket, request: int) -> int:
    buffer = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), request, buffer)
    return buffer[0]


def _queued(sock: socket.socket) -> int:
    """Bytes waiting in the socket's receive queue."""
    return _ioctl_int(sock, termios.FIONREAD)


def _unacknowledged(sock: socket.socket) -> int:
    """Bytes the kernel transmitted that the peer's kernel has not yet acknowledged."""
    return _ioctl_int(sock, termios.TIOCOUTQ) - _ioctl_int(sock, _SIOCOUTQNSD)


def _tcp_state(sock: socket.socket) -> int:
    return struct.unpack_from("B", sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8))[0]


class InFlight:
    """Every tapped socket of one loop, by (local, peer) address."""

    def __init__(self, on_io: Callable[[], None] = lambda: None) -> None:
        self._by_ends: dict[tuple[Address, Address], Tapped] = {}
        self._by_fd: dict[int, Tapped] = {}
        # Told of every send, receive, shutdown and close: the loop's cue that a socket may be ready.
        self.on_io = on_io
        # Sockets that sent bytes not yet confirmed landed; a dict keeps insertion order.
        self._pending: dict[Tapped, tuple[Address, Address]] = {}
        self.waits = 0  # how many times the barrier had to wait: non-zero means asynchronous loopback

    def add(self, tapped: Tapped) -> None:
        if tapped.ends is not None:
            tapped.replaced.append(self._by_ends.get(tapped.ends))
            self._by_ends[tapped.ends] = tapped
        if tapped.fd >= 0:
            tapped.replaced.append(self._by_fd.get(tapped.fd))
            self._by_fd[tapped.fd] = tapped

    def discard(self, tapped: Tapped) -> None:
        """Forget a tap whose transport was never made, and give back the entries it displaced."""
        self.remove(tapped)
        self._pending.pop(tapped, None)
        for previous in tapped.replaced:
            if previous is not None and not previous.closed:
                if previous.ends is not None:
                    self._by_ends[previous.ends] = previous
                self._by_fd[previous.fd] = previous

    def remove(self, tapped: Tapped) -> None:
        if tapped.ends is not None and self._by_ends.get(tapped.ends) is tapped:
            del self._by_ends[tapped.ends]
        if self._by_fd.get(tapped.fd) is tapped:
            del self._by_fd[tapped.fd]

    def sent(self, tapped: Tapped) -> None:
        self.on_io()
        if tapped.ends is not None:
            self._pending[tapped] = tapped.ends

    def peer_is_ours(self, fd: int) -> bool:
        """Whether ``fd`` is an open tapped TCP socket whose peer is an open tapped socket of this loop.
        Only TCP: an AF_UNIX address pair names no peer (a socketpair's is ('', ''), its own)."""
        tapped = self._by_fd.get(fd)
        if tapped is None or tapped.closed or tapped.ends is None or tapped.family not in _TCP_FAMILIES:
            return False
        local, remote = tapped.ends
        peer = self._by_ends.get((remote, local))
        return peer is not None and not peer.closed

    @property
    def has_pending(self) -> bool:
        """Whether anything sent is not yet confirmed landed (cheap: no kernel calls)."""
        return bool(self._pending)

    def unsettled(self) -> list[str]:
        """What is still between the kernels: bytes or a FIN sent that the peer's side has not got."""
        stuck = []
        for tapped, (local, remote) in list(self._pending.items()):
            peer = self._by_ends.get((remote, local))
            try:
                travelling = self._travelling(tapped, peer)
            except OSError:
                travelling = None  # a socket went away under us: nothing left to wait for
            if travelling:
                stuck.append(f"{local}->{remote}: {travelling}")
            else:
                # Landed stays landed until read: no need to ask the kernel again.
                del self._pending[tapped]
        return stuck

    @staticmethod
    def _travelling(tapped: Tapped, peer: Tapped | None) -> str | None:
        if peer is not None and not peer.closed:
            queued = _queued(peer.sock)
            missing = tapped.sent - peer.received - queued
            if missing > 0 and not tapped.closed:
                # Bytes my kernel has not transmitted wait on flow control, not on the wire.
                missing -= _ioctl_int(tapped.sock, _SIOCOUTQNSD)
            if missing > 0 and not (tapped.closed and queued):
                return f"{missing} bytes in flight"
            if missing <= 0 and tapped.fin_sent and not peer.eof_seen and _tcp_state(peer.sock) == _TCP_ESTABLISHED:
                return "FIN in flight"
            return None
        if tapped.closed:
            return None  # the peer is not ours, or gone: a FIN to it concerns nobody on this loop
        if _tcp_state(tapped.sock) == _TCP_CLOSE:
            # Reset: bytes sent to a peer that had closed drew an RST. The kernel still counts them
            # as unacknowledged, but nothing will ever acknowledge them: they are not in flight.
            return None
        unacknowledged = _unacknowledged(tapped.sock)
        return f"{unacknowledged} bytes unacknowledged (peer not yet accepted)" if unacknowledged else None

    def wait_until_landed(self, *, give_up_s: float) -> None:
        if not self._pending or not self.unsettled():
            return
        self.waits += 1
        deadline = _real_monotonic(_REAL_CLOCK) + give_up_s
        while stuck := self.unsettled():
            if _real_monotonic(_REAL_CLOCK) > deadline:
                from virtualtime.loop import VirtualTimeError

                raise VirtualTimeError(f"loopback bytes never landed after {give_up_s} s real time: {stuck}")
            time.sleep(_POLL_S)


class Tapped:
    """A socket that counts what passes through it; everything else is the socket's own."""

    def __init__(self, sock: socket.socket, registry: InFlight) -> None:
        self.sock = sock
        self.sent = 0
        self.received = 0
        self.closed = False
        self.fin_sent = False
        self.eof_seen = False
        self._registry = registry
        self.replaced: list[Tapped | None] = []  # what registering this tap displaced, if anything
        self.fd = sock.fileno()
        self.family = sock.family
        try:
            self.ends: tuple[Address, Address] | None = (sock.getsockname(), sock.getpeername())
        except OSError:
            self.ends = None
        registry.add(self)

    def send(self, data: Any, *flags: int) -> int:
        sent = self.sock.send(data, *flags)
        self.sent += sent
        self._registry.sent(self)
        return sent

    def sendall(self, data: Any, *flags: int) -> None:
        self.sock.sendall(data, *flags)
        self.sent += len(data)
        self._registry.sent(self)

    def sendmsg(self, buffers: Any, *args: Any) -> int:
        # Python 3.12's transports write through sendmsg.
        sent = self.sock.sendmsg(buffers, *args)
        self.sent += sent
        self._registry.sent(self)
        return sent

    def recv(self, size: int, *flags: int) -> bytes:
        data = self.sock.recv(size, *flags)
        self._registry.on_io()
        self.received += len(data)
        if not data and size:
            self.eof_seen = True
        return data

    def recv_into(self, buffer: Any, size: int = 0, *flags: int) -> int:
        count = self.sock.recv_into(buffer, size, *flags)
        self._registry.on_io()
        self.received += count
        if not count and (size or len(buffer)):
            self.eof_seen = True
        return count

    def shutdown(self, how: int) -> None:
        self.sock.shutdown(how)
        if how in (socket.SHUT_WR, socket.SHUT_RDWR):
            self.fin_sent = True
            self._registry.sent(self)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.fin_sent = True
            # Still pending until the peer sees the FIN; forgotten by address once that is settled.
            self._registry.sent(self)
            self._registry.remove(self)
        self.sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)
