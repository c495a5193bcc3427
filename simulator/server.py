"""Starting a venue on a real socket, in-process (tests) or standalone (the CLI)."""

from __future__ import annotations

import contextlib
import functools
import random
import ssl
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, TypeVar

from aiohttp import web

from simulator.binance.app import BinanceVenue
from simulator.binance.limits import RateLimits
from simulator.bybit.app import BybitVenue
from simulator.catalog import DEFAULT_BALANCE, binance_instruments, default_instruments
from simulator.ccxt_config import binance_config, bybit_config
from simulator.clock import Clock, WallClock
from simulator.engine.accounts import Account
from simulator.engine.venue import Engine, EngineConfig
from simulator.faults.plan import FaultPlan
from simulator.tls import BINANCE_HOSTS, BYBIT_HOSTS, LocalTls, local_tls, real_url_session
from virtualtime.trace import NO_TRACE, Recorder

DEFAULT_API_KEY = "harness-key"
DEFAULT_API_SECRET = "harness-secret"


def bybit_engine(
    *, clock: Clock, seed: int, config: EngineConfig | None = None, listed: bool = True
) -> Engine:
    engine = Engine(clock=clock, rng=random.Random(seed), config=config)
    if listed:
        for instrument, price in default_instruments():
            engine.add_instrument(instrument, price)
    return engine


class _Running:
    """A venue listening on a socket, with the account a client trades as (shared by both venues)."""

    ccxt_id = ""  # the ccxt exchange class both clients are built from
    tls_hosts: tuple[str, ...] = ()  # the venue's real host names, on its certificate when served with TLS
    venue: Any

    def __init__(self, venue: Any, base_url: str, account: Account) -> None:
        self.venue = venue
        self.base_url = base_url
        self.account = account
        self._clients: list[Any] = []
        self._sessions: list[Any] = []  # sessions handed to ccxt, which does not close what it did not open

    @property
    def engine(self) -> Engine:
        return self.venue.engine  # type: ignore[no-any-return]

    @property
    def faults(self) -> FaultPlan:
        """The venue's fault plan: ``add`` a ``simulator.faults.Fault`` to inject it."""
        return self.venue.faults  # type: ignore[no-any-return]

    @property
    def api_key(self) -> str:
        return self.account.api_key

    @property
    def api_secret(self) -> str:
        return self.account.api_secret

    @property
    def tls(self) -> LocalTls | None:
        """The local TLS this venue speaks (its ``ca_pem`` is what a client must trust), or None on plain HTTP."""
        return local_tls(self.tls_hosts) if self.base_url.startswith("https://") else None

    def _config(self) -> dict[str, Any]:
        raise NotImplementedError

    def ccxt_config(self, **overrides: Any) -> dict[str, Any]:
        config = self._config()
        config.update(overrides)
        return config

    def rest_client(self, **overrides: Any) -> Any:
        """A ``ccxt.async_support`` client pointed here; closed when the venue stops."""
        import ccxt.async_support as ccxt_async

        return self._client(getattr(ccxt_async, self.ccxt_id), overrides)

    def pro_client(self, **overrides: Any) -> Any:
        """A ``ccxt.pro`` client pointed here (streams); closed when the venue stops."""
        import ccxt.pro as ccxt_pro

        return self._client(getattr(ccxt_pro, self.ccxt_id), overrides)

    def _client(self, exchange_class: Any, overrides: dict[str, Any]) -> Any:
        overrides.setdefault("ssl_context", self.tls.client if self.tls is not None else _ccxt_ssl_context())
        client = exchange_class(self.ccxt_config(**overrides))
        self._clients.append(client)
        return client

    async def close_clients(self) -> None:
        while self._clients:
            await self._clients.pop().close()
        while self._sessions:
            await self._sessions.pop().close()


class RunningVenue(_Running):
    """A Bybit venue on a socket: ``rest_client()`` is ``ccxt.async_support.bybit``, ``pro_client()`` ``ccxt.pro.bybit``."""

    ccxt_id = "bybit"
    tls_hosts = BYBIT_HOSTS
    venue: BybitVenue

    def _config(self) -> dict[str, Any]:
        return bybit_config(self.base_url, self.api_key, self.api_secret)


class RunningBinance(_Running):
    """A Binance USD-M venue on a socket: clients are ``binanceusdm`` (REST) and ``ccxt.pro.binanceusdm``."""

    ccxt_id = "binanceusdm"
    tls_hosts = BINANCE_HOSTS
    venue: BinanceVenue

    def _config(self) -> dict[str, Any]:
        return binance_config(self.base_url, self.api_key, self.api_secret)

    def real_url_client(self, *, pro: bool = False, **overrides: Any) -> Any:
        """A ``binanceusdm`` (``ccxt.pro`` with ``pro``) that keeps Binance's real URLs, resolved here.

        Needs ``serve_binance(tls=True)``. Exactly what production sees, error classes included:
        -2019 is ``InsufficientFunds``.
        """
        import ccxt.async_support as ccxt_async
        import ccxt.pro as ccxt_pro

        if not self.base_url.startswith("https://"):
            raise RuntimeError("real_url_client() needs the venue served with tls=True: serve_binance(tls=True)")
        session = real_url_session(self.tls_hosts, int(self.base_url.rsplit(":", 1)[1]))
        self._sessions.append(session)
        config = {"apiKey": self.api_key, "secret": self.api_secret, "options": {"fetchCurrencies": False},
                  "session": session, **overrides}
        client = (ccxt_pro if pro else ccxt_async).binanceusdm(config)
        self._clients.append(client)
        return client


@functools.cache
def _ccxt_ssl_context() -> ssl.SSLContext:
    # The context ccxt builds for itself when given none, built once per process rather than
    # per client: loading the CA bundle costs ~35 ms each time. Unused on plain-http loopback.
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


async def listen(
    app: web.Application, *, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, str]:
    """Serve ``app`` on ``host:port`` (0 = any free port); returns the runner (to clean up) and the base URL."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    server = site._server  # aiohttp exposes the bound port only through the server's sockets
    assert server is not None
    bound_port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    return runner, f"{'https' if ssl_context else 'http'}://{host}:{bound_port}"


@contextlib.asynccontextmanager
async def serve_bybit(
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str = DEFAULT_API_KEY,
    api_secret: str = DEFAULT_API_SECRET,
    balance: Decimal = DEFAULT_BALANCE,
    trace: Recorder = NO_TRACE,
    control_token: str | None = None,
    tls: bool = False,
) -> AsyncIterator[RunningVenue]:
    """Serve a Bybit venue on ``host:port`` (0 = any free port) until the block exits.

    With a ``trace``, every REST exchange, WebSocket frame and engine change is recorded to it.
    With ``tls`` it speaks HTTPS and WSS with a certificate from a throwaway local CA.
    """
    if engine is None:
        engine = bybit_engine(clock=clock or WallClock(), seed=seed)
    _funded(engine, api_key, api_secret, balance)
    venue = BybitVenue(engine, trace=trace, control_token=control_token)
    async with _serve(RunningVenue, venue, api_key, host, port, trace, tls) as running:
        yield running


def _funded(engine: Engine, api_key: str, api_secret: str, balance: Decimal) -> None:
    if engine.account_by_key(api_key) is None:
        engine.add_account(api_key=api_key, api_secret=api_secret, balance=balance)


R = TypeVar("R", bound=_Running)


@contextlib.asynccontextmanager
async def _serve(
    kind: type[R], venue: Any, api_key: str, host: str, port: int, trace: Recorder, tls: bool,
) -> AsyncIterator[R]:
    """``venue`` listening until the block exits; with ``tls`` under a certificate for its real host names."""
    account = venue.engine.account_by_key(api_key)
    context = local_tls(kind.tls_hosts).server if tls else None
    runner, base_url = await listen(venue.build_app(), host=host, port=port, ssl_context=context)
    # The port differs run to run; a client may echo it (an error message) into the trace.
    trace.add_alias(base_url.split("://", 1)[1], f"{kind.ccxt_id.removesuffix('usdm')}-venue")
    running = kind(venue, base_url, account)
    try:
        yield running
    finally:
        await running.close_clients()
        await runner.cleanup()


def binance_engine(*, clock: Clock, seed: int, config: EngineConfig | None = None) -> Engine:
    engine = Engine(clock=clock, rng=random.Random(seed), config=config)
    for instrument, price in binance_instruments():
        engine.add_instrument(instrument, price)
    return engine


@contextlib.asynccontextmanager
async def serve_binance(
    *,
    engine: Engine | None = None,
    clock: Clock | None = None,
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    api_key: str = DEFAULT_API_KEY,
    api_secret: str = DEFAULT_API_SECRET,
    balance: Decimal = DEFAULT_BALANCE,
    trace: Recorder = NO_TRACE,
    control_token: str | None = None,
    tls: bool = False,
    rate_limits: RateLimits = RateLimits(),
) -> AsyncIterator[RunningBinance]:
    """Serve a Binance USD-M venue (REST and the user data stream) on ``host:port`` until the block exits.

    With ``tls`` it speaks HTTPS with a certificate for Binance's own host names, so
    ``RunningBinance.real_url_client()`` keeps ccxt's real URLs (and its URL-keyed error table).
    """
    if engine is None:
        engine = binance_engine(clock=clock or WallClock(), seed=seed)
    _funded(engine, api_key, api_secret, balance)
    venue = BinanceVenue(engine, trace=trace, control_token=control_token, rate_limits=rate_limits)
    async with _serve(RunningBinance, venue, api_key, host, port, trace, tls) as running:
        yield running
