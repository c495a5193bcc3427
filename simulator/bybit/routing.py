"""What an endpoint handler receives and how endpoints are declared.

Handlers are plain functions of one ``Call`` returning the ``result`` object: parsing,
authentication, the envelope and every error shape live in the app around them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simulator.bybit.params import Params
from simulator.bybit.wire import WithExtInfo
from simulator.engine.accounts import Account
from simulator.engine.values import AccountId
from simulator.engine.venue import Engine


@dataclass(frozen=True, slots=True)
class Call:
    engine: Engine
    params: Params
    account: Account | None
    now_ms: int

    @property
    def account_id(self) -> AccountId:
        assert self.account is not None, "a private route always has an authenticated account"
        return self.account.account_id


Handler = Callable[[Call], Mapping[str, Any] | WithExtInfo]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    private: bool = False
    writes: bool = False


def get(path: str, handler: Handler, *, private: bool = False) -> Route:
    return Route("GET", path, handler, private=private)


def post(path: str, handler: Handler) -> Route:
    return Route("POST", path, handler, private=True, writes=True)
