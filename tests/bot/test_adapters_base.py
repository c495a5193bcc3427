"""What both ccxt adapters share: one TLS context per process, unless the caller says how to do TLS."""

from __future__ import annotations

import ssl

import pytest

from bot.adapters.base import shared_ssl_context, shared_tls


def test_the_shared_context_is_built_once() -> None:
    assert shared_ssl_context() is shared_ssl_context()
    assert shared_ssl_context().verify_mode is ssl.CERT_REQUIRED
    assert shared_tls({}) == {"ssl_context": shared_ssl_context()}


@pytest.mark.parametrize("options", [{"session": object()}, {"verify": False}, {"cafile": "ca.pem"},
                                     {"ssl_context": None}, {"options": {"include_OS_certificates": True}}])
def test_client_options_that_choose_their_own_tls_are_not_overridden(options: dict[str, object]) -> None:
    assert shared_tls(options) == {}
