"""Binance's rate limits: request weight per IP per minute, new orders per account per 10 s and minute.

Past the weight limit Binance answers 429 -1003 with ``Retry-After`` (seconds until the window
resets); a client that keeps sending is banned: 418 -1003 until a time it names, from 2 minutes
and doubling for repeat offenders up to 3 days. Too many new orders is 429 -1015. The used weight
and order counts go back in the X-MBX-USED-WEIGHT-1M and X-MBX-ORDER-COUNT-10S/1M headers.
Windows are fixed intervals of the venue clock, as Binance's "1M" and "10S" intervals are.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.binance.errors import BinanceError

MINUTE_MS = 60_000
TEN_S_MS = 10_000


@dataclass(frozen=True, slots=True)
class RateLimits:
    weight_per_minute: int = 2400
    orders_per_10s: int = 300
    orders_per_minute: int = 1200
    # Requests a limited IP may still send in the same window before it is banned.
    violations_before_ban: int = 10
    first_ban_ms: int = 2 * MINUTE_MS
    longest_ban_ms: int = 3 * 24 * 60 * MINUTE_MS

    def __post_init__(self) -> None:
        for name in ("weight_per_minute", "orders_per_10s", "orders_per_minute", "violations_before_ban",
                     "first_ban_ms", "longest_ban_ms"):
            if getattr(self, name) <= 0:
                raise ValueError(f"RateLimits.{name} must be positive, got {getattr(self, name)}")


@dataclass
class _Ip:
    window: int = -1  # minute index the counts below belong to
    weight: int = 0
    violations: int = 0
    banned_until_ms: int = 0
    bans: int = 0


@dataclass
class _Orders:
    minute: int = -1
    per_minute: int = 0
    ten_s: int = -1
    per_10s: int = 0


def _retry_after(until_ms: int, now_ms: int) -> dict[str, str]:
    return {"Retry-After": str(max(1, -(-(until_ms - now_ms) // 1000)))}


class Limiter:
    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self._ips: dict[str, _Ip] = {}
        self._orders: dict[str, _Orders] = {}

    def admit(self, ip: str, weight: int, now_ms: int) -> None:
        """Count ``weight`` against ``ip``, or refuse it: 418 while banned, 429 past the limit."""
        state = self._ips.setdefault(ip, _Ip())
        if now_ms < state.banned_until_ms:
            raise BinanceError(-1003, f"Way too many requests; IP({ip}) banned until {state.banned_until_ms}. Please"
                               " use the websocket for live updates to avoid bans.", status=418,
                               headers=_retry_after(state.banned_until_ms, now_ms))
        window = now_ms // MINUTE_MS
        if window != state.window:
            state.window, state.weight, state.violations = window, 0, 0
        if state.weight + weight > self.limits.weight_per_minute:
            state.violations += 1
            if state.violations > self.limits.violations_before_ban:
                ban_ms = min(self.limits.first_ban_ms * 2 ** state.bans, self.limits.longest_ban_ms)
                state.banned_until_ms, state.bans = now_ms + ban_ms, state.bans + 1
                return self.admit(ip, weight, now_ms)
            raise BinanceError(-1003, f"Too many requests; current limit of IP({ip}) is"
                               f" {self.limits.weight_per_minute} requests per minute. Please use the websocket for"
                               " live updates to avoid polling the API.", status=429,
                               headers=_retry_after((window + 1) * MINUTE_MS, now_ms))
        state.weight += weight

    def admit_order(self, account: str, now_ms: int) -> None:
        """Refuse a new order past either order-count limit (429 -1015); counted only once placed."""
        counts = self._order_counts(account, now_ms)
        for count, limit, interval in ((counts.per_10s, self.limits.orders_per_10s, "TEN_SECONDS"),
                                       (counts.per_minute, self.limits.orders_per_minute, "MINUTE")):
            if count >= limit:
                raise BinanceError(-1015, f"Too many new orders; current limit is {limit} orders per {interval}.",
                                   status=429)

    def placed(self, account: str, now_ms: int, *, per_10s: int = 1, per_minute: int = 1) -> None:
        """Count a placement: one order, or what Binance counts for a batch (5 and 1)."""
        counts = self._order_counts(account, now_ms)
        counts.per_10s += per_10s
        counts.per_minute += per_minute

    def used_weight(self, ip: str, now_ms: int) -> int:
        state = self._ips.get(ip)
        return state.weight if state is not None and state.window == now_ms // MINUTE_MS else 0

    def order_counts(self, account: str, now_ms: int) -> tuple[int, int]:
        """New orders in the current 10-second and minute windows."""
        counts = self._order_counts(account, now_ms)
        return counts.per_10s, counts.per_minute

    def _order_counts(self, account: str, now_ms: int) -> _Orders:
        counts = self._orders.setdefault(account, _Orders())
        if counts.minute != now_ms // MINUTE_MS:
            counts.minute, counts.per_minute = now_ms // MINUTE_MS, 0
        if counts.ten_s != now_ms // TEN_S_MS:
            counts.ten_s, counts.per_10s = now_ms // TEN_S_MS, 0
        return counts
