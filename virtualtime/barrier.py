"""The in-flight barrier: the clock must not move while loopback bytes are still travelling.

On most Linux hosts a loopback ``send`` lands in the peer's receive queue before it returns,
but with receive packet steering, traffic shaping or user-space network stacks (common in CI
sandboxes) delivery is asynchronous. A loop that jumps its clock then would see a reply
"time out" that was merely still on the wire. So every socket of the loop is tapped: bytes
sent are counted, bytes received are counted, and a connection is settled only when the peer
has received (or holds queued, by FIONREAD) everything that was sent to it.
"""

from __future__ import annotations

import array
import fcntl
import socket
import termios
import time
from typing import Any

_real_monotonic = time.clock_gettime
_REAL_CLOCK = time.CLOCK_MONOTONIC
_POLL_S = 0.0001

Address = tuple[Any, ...]


def _queued(sock: socket.socket) -> int:
    """Bytes waiting in the socket's receive queue."""
    buffer = array.array("i", [0])
    fcntl.ioctl(sock.fileno(), termios.FIONREAD, buffer)
    return buffer[0]


class InFlight:
    """Every tapped socket of one loop, by (local, peer) address."""

    def __init__(self) -> None:
        self._by_ends: dict[tuple[Address, Address], Tapped] = {}
        # Sockets that sent bytes not yet confirmed landed; a dict keeps insertion order.
        self._pending: dict[Tapped, tuple[Address, Address]] = {}
        self.waits = 0  # how many times the barrier had to wait: non-zero means asynchronous loopback

    def add(self, tapped: Tapped) -> None:
        if tapped.ends is not None:
            self._by_ends[tapped.ends] = tapped

    def remove(self, tapped: Tapped) -> None:
        self._pending.pop(tapped, None)
        if tapped.ends is not None and self._by_ends.get(tapped.ends) is tapped:
            del self._by_ends[tapped.ends]

    def sent(self, tapped: Tapped) -> None:
        if tapped.ends is not None:
            self._pending[tapped] = tapped.ends

    def unsettled(self) -> list[str]:
        """Connections with bytes sent that the peer has neither read nor queued."""
        stuck = []
        for tapped, (local, remote) in list(self._pending.items()):
            peer = self._by_ends.get((remote, local))
            if peer is None or peer.closed:
                # Not a connection between two sockets of this loop: nothing to wait for.
                del self._pending[tapped]
                continue
            if peer.received >= tapped.sent:
                del self._pending[tapped]
                continue
            try:
                landed = peer.received + _queued(peer.sock)
            except OSError:
                del self._pending[tapped]
                continue
            if tapped.sent > landed:
                stuck.append(f"{local}->{remote}: {tapped.sent - landed} bytes in flight")
            else:
                # Landed bytes stay landed until read: no need to ask the kernel again.
                del self._pending[tapped]
        return stuck

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
        self._registry = registry
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
        self.received += len(data)
        return data

    def recv_into(self, buffer: Any, size: int = 0, *flags: int) -> int:
        count = self.sock.recv_into(buffer, size, *flags)
        self.received += count
        return count

    def close(self) -> None:
        self.closed = True
        self._registry.remove(self)
        self.sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)
