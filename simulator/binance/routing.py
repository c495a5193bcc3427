"""What a Binance endpoint handler receives, and how endpoints are declared.

Handlers are plain functions of one ``Call`` returning the JSON answer: parsing, signing, error
shapes and statuses live in the app around them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.binance.ids import NumericIds
from simulator.binance.limits import RateLimits
from simulator.binance.listen_keys import ListenKeys
from simulator.binance.params import Params
from simulator.engine.accounts import Account
from simulator.engine.values import AccountId
from simulator.engine.venue import Engine


@dataclass(frozen=True, slots=True)
class Call:
    engine: Engine
    params: Params
    account: Account | None
    now_ms: int
    ids: NumericIds
    listen_keys: ListenKeys
    limits: RateLimits

    @property
    def account_id(self) -> AccountId:
        assert self.account is not None, "a signed route always has an authenticated account"
        return self.account.account_id


Handler = Callable[[Call], Any]

# How a route authenticates: none (public), the API key header only (listenKey), or a signature.
PUBLIC, KEY, SIGNED = "public", "key", "signed"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    auth: str = SIGNED
    weight: int = 1  # request weight against the IP's minute limit, as Binance documents it
    weight_without_symbol: int | None = None  # some list calls cost more across every symbol
    weigh: Callable[[Mapping[str, str]], int] | None = None  # a weight that depends on the call (klines' limit)

    def weight_of(self, params: Mapping[str, str]) -> int:
        if self.weigh is not None:
            return self.weigh(params)
        if self.weight_without_symbol is not None and not params.get("symbol"):
            return self.weight_without_symbol
        return self.weight


def route(method: str, path: str, handler: Handler, auth: str = SIGNED, *, weight: int = 1,
          without_symbol: int | None = None, weigh: Callable[[Mapping[str, str]], int] | None = None) -> Route:
    return Route(method, path, handler, auth, weight, without_symbol, weigh)
