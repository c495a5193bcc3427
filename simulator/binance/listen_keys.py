"""Binance listen keys: one per account, valid 60 minutes from its last POST or PUT.

Binance's rules (futures "User Data Streams"): POST returns the account's live key, or a new one,
and extends it; PUT extends the live key or answers -1125 when there is none; DELETE closes the
stream and invalidates the key. A key that lapses is announced on its streams with
``listenKeyExpired``, after which they carry no more user data (the socket stays open).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator.binance.errors import BinanceError
from simulator.engine.ids import IdSource
from simulator.engine.values import AccountId

LISTEN_KEY_TTL_MS = 60 * 60_000
NO_SUCH_KEY = BinanceError(-1125, "This listenKey does not exist.")


@dataclass(frozen=True, slots=True)
class ListenKey:
    key: str
    account_id: AccountId
    expires_ms: int


class ListenKeys:
    def __init__(self, ids: IdSource, *, ttl_ms: int = LISTEN_KEY_TTL_MS) -> None:
        if ttl_ms <= 0:
            raise ValueError(f"a listen key's lifetime must be positive, got ttl_ms={ttl_ms}")
        self._ids = ids
        self.ttl_ms = ttl_ms
        self._by_account: dict[AccountId, ListenKey] = {}
        # Told of every key closed (DELETE or forced): its streams close with it.
        self.on_close: list[Callable[[ListenKey], None]] = []

    def open(self, account_id: AccountId, now_ms: int) -> ListenKey:
        """POST: the account's live key extended, or a new key."""
        live = self.live(account_id, now_ms)
        key = live.key if live is not None else (self._ids.uuid() + self._ids.uuid()).replace("-", "")[:64]
        return self._extend(account_id, key, now_ms)

    def keep(self, account_id: AccountId, now_ms: int) -> ListenKey:
        """PUT: the live key extended; -1125 when the account has none (it lapsed or was closed)."""
        live = self.live(account_id, now_ms)
        if live is None:
            raise NO_SUCH_KEY
        return self._extend(account_id, live.key, now_ms)

    def close(self, account_id: AccountId) -> ListenKey | None:
        """DELETE: the key is gone at once and its streams close; returns what it was."""
        closed = self._by_account.pop(account_id, None)
        if closed is not None:
            for listener in self.on_close:
                listener(closed)
        return closed

    def lapse(self, account_id: AccountId, now_ms: int) -> ListenKey | None:
        """End the account's live key now, as if its 60 minutes had run out (a missed keepalive)."""
        live = self.live(account_id, now_ms)
        if live is None:
            return None
        lapsed = ListenKey(live.key, account_id, now_ms)
        self._by_account[account_id] = lapsed
        return lapsed

    def live(self, account_id: AccountId, now_ms: int) -> ListenKey | None:
        found = self._by_account.get(account_id)
        return found if found is not None and found.expires_ms > now_ms else None

    def account_for(self, key: str, now_ms: int) -> AccountId | None:
        """The account whose live key ``key`` is, or None (unknown, lapsed or closed)."""
        for found in self._by_account.values():
            if found.key == key and found.expires_ms > now_ms:
                return found.account_id
        return None

    def expiry(self, key: str) -> int | None:
        """When ``key`` lapses (ms), if it is still the account's key; None once replaced or closed."""
        for found in self._by_account.values():
            if found.key == key:
                return found.expires_ms
        return None

    def _extend(self, account_id: AccountId, key: str, now_ms: int) -> ListenKey:
        extended = ListenKey(key, account_id, now_ms + self.ttl_ms)
        self._by_account[account_id] = extended
        return extended
