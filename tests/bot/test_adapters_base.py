"""What both ccxt adapters share: one TLS context per process, unless the caller says how to do TLS;
one ccxt.pro client for REST and the stream, its rate limiter waking every 5 ms."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from bot.adapters.base import shared_ssl_context, shared_tls
from bot.adapters.binance import BinanceVenue
from bot.adapters.bybit import BybitVenue


def test_the_shared_context_is_built_once() -> None:
    assert shared_ssl_context() is shared_ssl_context()
    assert shared_ssl_context().verify_mode is ssl.CERT_REQUIRED
    assert shared_tls({}) == {"ssl_context": shared_ssl_context()}


@pytest.mark.parametrize("options", [{"session": object()}, {"verify": False}, {"cafile": "ca.pem"},
                                     {"ssl_context": None}, {"options": {"include_OS_certificates": True}}])
def test_client_options_that_choose_their_own_tls_are_not_overridden(options: dict[str, object]) -> None:
    assert shared_tls(options) == {}


@pytest.mark.parametrize("adapter", [BybitVenue, BinanceVenue])
async def test_one_client_serves_rest_and_the_stream_and_paces_every_5_ms(adapter: Any) -> None:
    venue = adapter(api_key="k", secret="s")
    tuned = adapter(api_key="k", secret="s", client_options={"tokenBucket": {"delay": 0.001}})
    try:
        # One client: one market catalogue and one limiter for the one budget the venue counts.
        assert venue._stream._pro is venue._rest
        assert type(venue._rest).__module__.startswith("ccxt.pro.")
        assert venue._rest.throttler.config["delay"] == 0.005
        assert venue._rest.throttler.config["refillRate"] == 1 / venue._rest.rateLimit  # pacing itself unchanged
        assert tuned._rest.throttler.config["delay"] == 0.001  # the caller's own choice wins
    finally:
        await venue.close()
        await tuned.close()
