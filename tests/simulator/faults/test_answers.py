"""Named venue answers through unmodified ccxt: the exception a client sees, and what the venue really did."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from simulator.faults import Fault, FaultSpecError, RestTarget, fault_from_table
from simulator.faults import answers as a
from simulator.server import RunningBinance, RunningVenue, serve_binance
from simulator.simulation import Simulation

pytestmark = pytest.mark.virtual_time
BTC = "BTC/USDT:USDT"


def held(venue: Any) -> list[Decimal]:
    return [p.size for p in venue.engine.positions(venue.account.account_id) if p.size]


BINANCE_CASES = [
    (a.binance_unknown_outcome(applied=True), ccxt.RequestTimeout, True),
    (a.binance_unknown_outcome(applied=False), ccxt.RequestTimeout, False),
    (a.binance_internal_error(), ccxt.OperationFailed, False),
    (a.binance_too_many_requests(30), ccxt.DDoSProtection, False),
    (a.binance_ip_banned(1_767_225_720_000), ccxt.DDoSProtection, False),
    (a.binance_error(-2019, "Margin is insufficient."), ccxt.ExchangeError, False),
    (a.gateway_page(502), ccxt.ExchangeNotAvailable, False),
    (a.gateway_page(504, applied=True), ccxt.RequestTimeout, True),
]
IDS = ["-1007-applied", "-1007-not-applied", "-1001", "429", "418", "-2019", "502-page", "504-page-applied"]


@pytest.mark.parametrize(("answer", "raised", "applied"), BINANCE_CASES, ids=IDS)
async def test_binance_answers_through_an_overridden_url(
    binance_venue: RunningBinance, answer: a.Answer, raised: type[Exception], applied: bool
) -> None:
    client = binance_venue.rest_client()
    await client.load_markets()
    binance_venue.faults.add(Fault("answer", RestTarget("POST", "/fapi/v1/order"), answer))

    with pytest.raises(raised) as caught:
        await client.create_order(BTC, "market", "buy", 0.01)

    assert held(binance_venue) == ([Decimal("0.01")] if applied else [])
    assert answer.body[:40].replace("\r\n", "") in str(caught.value).replace("\r\n", "")
    for name, value in answer.headers:
        assert client.last_response_headers[name] == value


REAL_URL_CASES = [
    (a.binance_unknown_outcome(applied=True), ccxt.RequestTimeout),
    (a.binance_internal_error(), ccxt.OperationFailed),
    (a.binance_error(-2019, "Margin is insufficient."), ccxt.InsufficientFunds),
    (a.binance_error(-1015, "Too many new orders; current limit is 300 orders per TEN_SECONDS.", 429),
     ccxt.DDoSProtection),
]


@pytest.mark.parametrize(("answer", "raised"), REAL_URL_CASES, ids=["-1007", "-1001", "-2019", "-1015"])
async def test_binance_answers_on_the_real_urls(
    simulation: Simulation, answer: a.Answer, raised: type[Exception]
) -> None:
    async with serve_binance(seed=1, tls=True) as venue:
        client = venue.real_url_client()
        await client.load_markets()
        venue.faults.add(Fault("answer", RestTarget("POST", "/fapi/v1/order"), answer))
        with pytest.raises(raised):
            await client.create_order(BTC, "market", "buy", 0.01)


BYBIT_CASES = [
    (a.bybit_unknown_outcome(applied=True), ccxt.ExchangeError, True),  # unclassified: the bot calls it unknown
    (a.bybit_unknown_outcome(applied=False), ccxt.ExchangeError, False),
    (a.bybit_too_many_visits(), ccxt.RateLimitExceeded, False),
    (a.bybit_ip_banned(), ccxt.RateLimitExceeded, False),
    (a.bybit_error(110007, "ab not enough for new order"), ccxt.InsufficientFunds, False),
    (a.gateway_page(503), ccxt.ExchangeNotAvailable, False),
]


@pytest.mark.parametrize(("answer", "raised", "applied"), BYBIT_CASES,
                         ids=["10016-applied", "10016-not-applied", "10006", "403", "110007", "503-page"])
async def test_bybit_answers(
    bybit_venue: RunningVenue, answer: a.Answer, raised: type[Exception], applied: bool
) -> None:
    client = bybit_venue.rest_client()
    await client.load_markets()
    bybit_venue.faults.add(Fault("answer", RestTarget("POST", "/v5/order/create"), answer))

    with pytest.raises(raised):
        await client.create_order(BTC, "market", "buy", 0.01)

    assert held(bybit_venue) == ([Decimal("0.01")] if applied else [])


def test_named_answers_read_from_a_table() -> None:
    fault = fault_from_table({"name": "-1007", "method": "POST", "path": "/fapi/v1/order", "effect": "answer",
                              "answer": "binance-unknown-outcome", "applied": True})
    assert fault.effect == a.binance_unknown_outcome(applied=True)
    banned = fault_from_table({"name": "ban", "method": "GET", "path": "/fapi/v3/positionRisk", "effect": "answer",
                               "answer": "binance-ip-banned", "until_ms": 5, "retry_after_s": 60})
    assert banned.effect == a.binance_ip_banned(5, 60)

    with pytest.raises(FaultSpecError, match=r"answer = 'nope'; one of \['binance-error'"):
        fault_from_table({"name": "x", "method": "GET", "path": "/", "effect": "answer", "answer": "nope"})
    with pytest.raises(FaultSpecError, match="binance-ip-banned.*until_ms"):
        fault_from_table({"name": "x", "method": "GET", "path": "/", "effect": "answer", "answer": "binance-ip-banned"})
    with pytest.raises(FaultSpecError, match="Binance error codes are negative"):
        fault_from_table({"name": "x", "method": "GET", "path": "/", "effect": "answer", "answer": "binance-error",
                          "code": 2019, "msg": "m"})
