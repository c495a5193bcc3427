from __future__ import annotations

import ccxt
import pytest

from bot.errors import (
    BotError,
    DuplicateClientId,
    Halt,
    NothingToReduce,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    Throttled,
    translate,
)

BYBIT_DUPLICATE = 'bybit {"retCode":110072,"retMsg":"OrderLinkedID is duplicate","result":{},"retExtInfo":{}}'
BINANCE_DUPLICATE = 'binanceusdm {"code":-4116,"msg":"ClientOrderId is duplicated."}'

# Each class decides the same way for reads and writes.
SAME_FOR_READ_AND_WRITE = [
    (ccxt.AuthenticationError, Halt),
    (ccxt.PermissionDenied, Halt),
    (ccxt.AccountSuspended, Halt),
    (ccxt.NotSupported, Halt),
    (ccxt.InsufficientFunds, Rejected),
    (ccxt.InvalidOrder, Rejected),
    (ccxt.BadSymbol, Rejected),
    (ccxt.BadRequest, Rejected),
    (ccxt.ArgumentsRequired, Rejected),
    (ccxt.OperationRejected, Rejected),
    (ccxt.InvalidNonce, RetryLater),
    (ccxt.RateLimitExceeded, Throttled),
    (ccxt.DDoSProtection, Throttled),
]

UNCERTAIN = [ccxt.NetworkError, ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.ExchangeError]


@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
@pytest.mark.parametrize(
    ("ccxt_class", "bot_class"), SAME_FOR_READ_AND_WRITE, ids=[c.__name__ for c, _ in SAME_FOR_READ_AND_WRITE]
)
def test_definite_ccxt_errors_map_to_the_same_bot_class_for_reads_and_writes(ccxt_class, bot_class, write):
    translated = translate(ccxt_class("venue said no"), write=write, what="create entry")

    # Exact type: DuplicateClientId is an OutcomeUnknown subclass, so isinstance would hide a misroute.
    assert type(translated) is bot_class


@pytest.mark.parametrize("ccxt_class", UNCERTAIN, ids=[c.__name__ for c in UNCERTAIN])
def test_uncertain_error_on_a_write_is_outcome_unknown(ccxt_class):
    translated = translate(ccxt_class("connection reset"), write=True, what="create entry")

    assert type(translated) is OutcomeUnknown


@pytest.mark.parametrize("ccxt_class", UNCERTAIN, ids=[c.__name__ for c in UNCERTAIN])
def test_uncertain_error_on_a_read_is_retry_later(ccxt_class):
    translated = translate(ccxt_class("connection reset"), write=False, what="fetch order")

    assert type(translated) is RetryLater


@pytest.mark.parametrize("message", [BYBIT_DUPLICATE, BINANCE_DUPLICATE], ids=["bybit-110072", "binance-4116"])
def test_duplicate_client_id_on_a_write_is_duplicate_client_id(message):
    translated = translate(ccxt.InvalidOrder(message), write=True, what="create entry")

    assert type(translated) is DuplicateClientId
    # The caller must resolve it like any unknown outcome: look the order up, never resend blindly.
    assert isinstance(translated, OutcomeUnknown)


@pytest.mark.parametrize("message", [BYBIT_DUPLICATE, BINANCE_DUPLICATE], ids=["bybit-110072", "binance-4116"])
def test_duplicate_marker_on_a_read_is_an_ordinary_rejection(message):
    translated = translate(ccxt.InvalidOrder(message), write=False, what="fetch order")

    assert type(translated) is Rejected


@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
@pytest.mark.parametrize("error", [ValueError("bad value"), KeyError("id"), RuntimeError("boom")], ids=repr)
def test_non_ccxt_exception_is_refused_with_type_error(error, write):
    with pytest.raises(TypeError, match=type(error).__name__):
        translate(error, write=write, what="create entry")


def test_non_ccxt_exception_mentioning_a_duplicate_code_is_still_refused():
    # A programming error whose text happens to contain a marker must not pass as a venue answer.
    with pytest.raises(TypeError):
        translate(ValueError("invalid literal for int(): '-4116'"), write=True, what="create entry")


def test_bybit_rejection_whose_timestamp_contains_110072_is_not_a_duplicate():
    # Bybit error bodies carry the server time in ms; this one is an ordinary insufficient-balance refusal.
    message = (
        'bybit {"retCode":110007,"retMsg":"ab not enough for new order","result":{},"retExtInfo":{},'
        '"time":1700000110072}'
    )

    translated = translate(ccxt.InsufficientFunds(message), write=True, what="create entry")

    assert type(translated) is Rejected


@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
@pytest.mark.parametrize(
    "error",
    [ccxt.InsufficientFunds("bybit margin too low"), ccxt.RequestTimeout("bybit timed out after 10s"),
     ccxt.InvalidOrder(BYBIT_DUPLICATE)],
    ids=["rejected", "uncertain", "duplicate"],
)
def test_translated_message_names_the_call_and_keeps_the_original_text(error, write):
    translated = translate(error, write=write, what="create stop")

    assert isinstance(translated, BotError)
    assert "create stop" in str(translated)
    assert str(error) in str(translated)
    assert type(error).__name__ in str(translated)


@pytest.mark.parametrize("code", ["-2019", "-4164", "-2021", "-1013"])
def test_binance_refusals_raised_as_a_bare_exchange_error_are_rejections(code):
    # With a local URL ccxt applies only its generic error table: these arrive as ExchangeError.
    error = ccxt.ExchangeError(f'binanceusdm {{"code":{code},"msg":"..."}}')

    assert type(translate(error, write=True, what="create entry")) is Rejected


def test_a_binance_code_that_only_shares_digits_is_not_a_refusal():
    error = ccxt.ExchangeError('binanceusdm {"code":-20190,"msg":"..."}')

    assert type(translate(error, write=True, what="create entry")) is OutcomeUnknown


@pytest.mark.parametrize("error", [
    ccxt.ExchangeError('binanceusdm {"code":-2022,"msg":"ReduceOnly Order is rejected."}'),
    ccxt.InvalidOrder('bybit {"retCode":110017,"retMsg":"Reduce-only rule not satisfied","result":{}}'),
], ids=["binance-2022", "bybit-110017"])
def test_a_reduce_only_order_with_nothing_to_reduce_says_the_side_is_flat(error):
    translated = translate(error, write=True, what="create close")

    assert type(translated) is NothingToReduce and isinstance(translated, Rejected)


def test_a_refusal_with_nothing_to_reduce_carries_the_venues_time_where_the_answer_has_one():
    bybit = ccxt.InvalidOrder('bybit {"retCode":110017,"retMsg":"Reduce-only rule not satisfied","result":{},'
                              '"retExtInfo":{},"time":1767225623005}')
    binance = ccxt.ExchangeError('binanceusdm {"code":-2022,"msg":"ReduceOnly Order is rejected."}')

    assert translate(bybit, write=True, what="create close").venue_ms == 1767225623005  # type: ignore[attr-defined]
    assert translate(binance, write=True, what="create close").venue_ms is None  # type: ignore[attr-defined]


def test_a_timestamp_containing_110017_is_not_nothing_to_reduce():
    error = ccxt.InvalidOrder('bybit {"retCode":110007,"retMsg":"...","time":1767225611001710017}')

    assert type(translate(error, write=True, what="create close")) is Rejected


@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
@pytest.mark.parametrize("error", [
    ccxt.BadRequest('bybit {"retCode":10001,"retMsg":"position idx not match position mode","result":{},'
                    '"retExtInfo":{},"time":1671136959287}'),
    ccxt.ExchangeError('binanceusdm {"code":-4061,"msg":"Order\'s position side does not match user\'s setting."}'),
], ids=["bybit-10001", "binance-4061"])
def test_an_account_in_hedge_mode_halts_the_bot_saying_how_to_switch(error, write):
    translated = translate(error, write=write, what="create entry")

    assert type(translated) is Halt
    assert "hedge mode" in str(translated) and "one-way" in str(translated)


def test_other_bybit_parameter_errors_stay_rejections():
    error = ccxt.BadRequest('bybit {"retCode":10001,"retMsg":"params error: qty","result":{},"time":1671136959287}')

    assert type(translate(error, write=True, what="create entry")) is Rejected
