"""The bot's errors, organised by what the caller should do next.

ccxt's exceptions are translated once, at the adapter boundary (``translate``); nothing past the
adapter sees a ccxt class. Whether a failure is retryable depends on whether the call could have
changed venue state, so the adapter says whether the call was a write.
"""

from __future__ import annotations

import re

import ccxt


class BotError(Exception):
    """Base of every error the bot raises on purpose."""


class RetryLater(BotError):
    """Nothing happened on the venue (or the call only read): the same call may be repeated."""


class Throttled(RetryLater):
    """The venue limits our request rate (Binance's 429 and 418 ban, Bybit's 10006): back off, never
    sooner; repeating early lengthens a ban."""


class OutcomeUnknown(BotError):
    """A write may or may not have taken effect: resolve it from venue evidence, never assume it failed."""


class Rejected(BotError):
    """The venue refused definitively (funds, order rules): do not repeat the same call."""


class NothingToReduce(Rejected):
    """A reduce-only order refused because the venue holds nothing to reduce on that side: the
    matching engine's own word that the side is flat (a position list can lag; this cannot).
    ``venue_ms``: the venue's time on the refusal, where its answer carries one (Bybit's does)."""

    def __init__(self, message: str, venue_ms: int | None = None) -> None:
        super().__init__(message)
        self.venue_ms = venue_ms


class Halt(BotError):
    """The bot cannot trade safely (credentials, permissions, a call the venue does not support): stop."""


class DuplicateClientId(OutcomeUnknown):
    """The venue already holds an order with this client id: look it up instead of placing it again."""


class ProtectionFailed(BotError):
    """A stop-loss could not be placed and verified; the position must not stay open unprotected."""


# Order matters: ccxt's classes form a tree and the first match wins.
_READ_OR_WRITE: tuple[tuple[type[Exception], type[BotError]], ...] = (
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
    (ccxt.InvalidNonce, RetryLater),  # refused before any effect: the clock was off
    (ccxt.RateLimitExceeded, Throttled),
    (ccxt.DDoSProtection, Throttled),
)
# Network trouble and unclassified venue errors: harmless for a read, unknown for a write.
_UNCERTAIN = (ccxt.OperationFailed, ccxt.ExchangeError)
# Whole codes or the venues' own words only: an error body also carries a millisecond timestamp,
# whose digits can contain any code.
_DUPLICATE = re.compile(r'"retCode":\s*110072\b|"code":\s*-4116\b|OrderLinkedID is duplicate|ClientOrderId is duplicated')
# Bybit's 110017 and Binance's -2022: a reduce-only order with nothing to reduce.
_NOTHING_TO_REDUCE = re.compile(r'"retCode":\s*110017\b|"code":\s*-2022\b')
# The venue's time in a Bybit answer (ccxt puts the whole body in the message); Binance's has none.
_ANSWER_TIME = re.compile(r'"time":\s*(\d{13})\b')


# The account is in hedge mode, which the bot (one-way throughout) does not trade: Bybit's 10001 in
# these words, Binance's -4061 (the bot never sends a position side, so a mismatch means hedge mode).
_HEDGE_MODE = re.compile(r'position idx not match position mode|"code":\s*-4061\b')
HEDGE_FIX = ("the account is in hedge mode and the bot trades one-way positions: switch it to one-way mode with no "
              "positions or orders open (Bybit: POST /v5/position/switch-mode mode=0, or the app's position mode "
              "setting; Binance: POST /fapi/v1/positionSide/dual dualSidePosition=false, or Preferences > Position "
              "Mode)")


# Binance refusals that ccxt raises as a bare ExchangeError when the URL is not Binance's own host
# (its USD-M error table is keyed by URL): each is definitive, nothing happened.
_BINANCE_REFUSALS = re.compile(r'"code":\s*-(2019|2018|2022|2021|4164|1013|1111|4003|1102|4061|4120|4131|1116|1117)\b')


def translate(error: Exception, *, write: bool, what: str) -> BotError:
    """The bot's error for a ccxt exception raised by ``what``; ``write`` if the call could change state."""
    said = str(error)
    text = f"{what}: {type(error).__name__}: {said}"
    if isinstance(error, ccxt.ExchangeError) and _HEDGE_MODE.search(said):
        return Halt(f"{text}; {HEDGE_FIX}")
    if write and isinstance(error, ccxt.ExchangeError) and _DUPLICATE.search(said):
        return DuplicateClientId(text)
    if write and isinstance(error, ccxt.ExchangeError) and _NOTHING_TO_REDUCE.search(said):
        stamped = _ANSWER_TIME.search(said)
        return NothingToReduce(text, int(stamped.group(1)) if stamped else None)
    if isinstance(error, ccxt.ExchangeError) and _BINANCE_REFUSALS.search(said):
        return Rejected(text)
    for ccxt_class, bot_class in _READ_OR_WRITE:
        if isinstance(error, ccxt_class):
            return bot_class(text)
    if not isinstance(error, _UNCERTAIN):
        raise TypeError(f"{what} raised {type(error).__name__}, which is not a ccxt error; only ccxt errors are translated")
    return OutcomeUnknown(text) if write else RetryLater(text)
