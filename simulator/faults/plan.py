"""The fault vocabulary and the plan a venue consults on every request, frame, query and fill.

A fault is (target, effect, trigger). Triggers: ``OnCall`` (the n-th matching call and some after
it), ``During`` (every matching call in a window of venue time, counted from when the fault was
planned), ``WithProbability`` (each matching call, drawn from the venue's seeded RNG).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from virtualtime.trace import NO_TRACE, Recorder

ANY = "*"


@dataclass(frozen=True, slots=True)
class RestTarget:
    method: str  # "POST", "GET", or "*" for any
    path: str  # "/v5/order/create", or "*" for every path (a venue-wide fault such as maintenance)

    def matches(self, method: str, path: str) -> bool:
        return self.method in (ANY, method) and self.path in (ANY, path)


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """Frames the venue sends on a WebSocket path, optionally only those of one topic ("order", "position")."""

    path: str  # "/v5/private", or "*" for every stream
    topic: str | None = None  # a push's topic, or a reply's op ("pong", "auth", "subscribe")

    def matches(self, path: str, topic: object) -> bool:
        return self.path in (ANY, path) and (self.topic is None or self.topic == topic)


@dataclass(frozen=True, slots=True)
class QueryTarget:
    """What clients can query of the venue's books (the engine's query model): "orders" or "positions"."""

    books: str = "orders"

    def __post_init__(self) -> None:
        if self.books not in ("orders", "positions"):
            raise ValueError(f"QueryTarget doesn't (yet) support {self.books!r}; only 'orders' and 'positions'")


@dataclass(frozen=True, slots=True)
class MarketTarget:
    """The venue's matching for one symbol (a venue symbol, "GIGAUSDT"), or every symbol."""

    symbol: str | None = None

    def matches(self, symbol: str) -> bool:
        return self.symbol is None or self.symbol == symbol


@dataclass(frozen=True, slots=True)
class OnCall:
    """Fire on the ``n``-th matching call (1-based) and the ``times - 1`` matching calls after it."""

    n: int = 1
    times: int = 1

    def __post_init__(self) -> None:
        if self.n < 1 or self.times < 1:
            raise ValueError(f"OnCall needs n >= 1 and times >= 1, got n={self.n} times={self.times}")

    def fires(self, call_number: int) -> bool:
        return self.n <= call_number < self.n + self.times


@dataclass(frozen=True, slots=True)
class During:
    """Fire on every matching call from ``start_ms`` to ``end_ms`` (exclusive) after the fault is planned."""

    start_ms: int
    end_ms: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_ms < self.end_ms:
            raise ValueError(f"During needs 0 <= start_ms < end_ms, got {self.start_ms}..{self.end_ms}")

    def covers(self, elapsed_ms: int) -> bool:
        return self.start_ms <= elapsed_ms < self.end_ms


@dataclass(frozen=True, slots=True)
class WithProbability:
    """Fire on each matching call with probability ``p``, drawn from the venue's seeded RNG."""

    p: float

    def __post_init__(self) -> None:
        if not 0 < self.p <= 1:
            raise ValueError(f"WithProbability needs 0 < p <= 1, got {self.p}")


Trigger = OnCall | During | WithProbability


@dataclass(frozen=True, slots=True)
class DropBeforeApply:
    """The connection drops before the venue sees the request: nothing happened, the client cannot know."""


@dataclass(frozen=True, slots=True)
class DropAfterApply:
    """The venue applies the request, then the connection drops before the answer: the order exists."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """A gateway answers instead of the venue, which never sees the request (a 502 page, a 429)."""

    status: int
    body: str = ""
    content_type: str = "text/html"
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 599:
            raise ValueError(f"HttpAnswer status must be an HTTP status (100-599), got {self.status}")


@dataclass(frozen=True, slots=True)
class DropFrame:
    """The venue never sends the frame: a push lost."""


@dataclass(frozen=True, slots=True)
class DelayFrame:
    """The frame goes out ``ms`` later; frames behind it overtake it."""

    ms: int

    def __post_init__(self) -> None:
        if self.ms <= 0:
            raise ValueError(f"DelayFrame needs ms > 0, got {self.ms}")


@dataclass(frozen=True, slots=True)
class CloseStream:
    """Instead of sending the frame the venue closes the connection (1001, going away)."""


@dataclass(frozen=True, slots=True)
class AbortStream:
    """Instead of sending the frame the venue's side of the connection vanishes: no close frame, a reset."""


@dataclass(frozen=True, slots=True)
class DuplicateFrame:
    """The frame goes out twice, back to back (a venue replaying a push)."""


@dataclass(frozen=True, slots=True)
class ReplaceFrame:
    """The client gets ``frame`` (JSON text) instead: an auth reply that refuses, a malformed push."""

    frame: str

    def __post_init__(self) -> None:
        if not self.frame:
            raise ValueError("ReplaceFrame needs the frame text to send instead")


@dataclass(frozen=True, slots=True)
class VisibilityLag:
    """Orders stay invisible to every order query (real-time, history) for ``ms`` after their creation,
    while they trade and fill as usual: the venue's read side lags its write side."""

    ms: int

    def __post_init__(self) -> None:
        if self.ms <= 0:
            raise ValueError(f"VisibilityLag needs ms > 0, got {self.ms}")


@dataclass(frozen=True, slots=True)
class AnswerAfterApply:
    """The venue applies the request, then the client gets this answer instead of the venue's own:
    an error whose outcome the client cannot know (Bybit's 10016 "server error", Binance's -1007)."""

    status: int
    body: str
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not 100 <= self.status <= 599:
            raise ValueError(f"AnswerAfterApply status must be an HTTP status (100-599), got {self.status}")


@dataclass(frozen=True, slots=True)
class TruncatedAnswer:
    """The venue applies the request; the client gets the venue's status and only the first
    ``keep_bytes`` of its body, as a complete HTTP message (a proxy that cut the body)."""

    keep_bytes: int

    def __post_init__(self) -> None:
        if self.keep_bytes < 0:
            raise ValueError(f"TruncatedAnswer needs keep_bytes >= 0, got {self.keep_bytes}")


@dataclass(frozen=True, slots=True)
class Latency:
    """The venue applies the request at once; its answer leaves ``ms`` later, plus up to ``jitter_ms``
    drawn uniformly from the venue's seeded RNG (longer than a client's timeout, it is a hang: the
    client gives up on a request that took effect)."""

    ms: int
    jitter_ms: int = 0

    def __post_init__(self) -> None:
        if self.ms <= 0 or self.jitter_ms < 0:
            raise ValueError(f"Latency needs ms > 0 and jitter_ms >= 0, got {self.ms} and {self.jitter_ms}")


@dataclass(frozen=True, slots=True)
class LiquidityCap:
    """A market order fills at most ``qty`` (the book is that thin); the rest is cancelled."""

    qty: Decimal

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"LiquidityCap needs qty > 0, got {self.qty}")


RestEffect = DropBeforeApply | DropAfterApply | HttpAnswer | AnswerAfterApply | Latency | TruncatedAnswer
StreamEffect = DropFrame | DelayFrame | CloseStream | AbortStream | DuplicateFrame | ReplaceFrame
@dataclass(frozen=True, slots=True)
class PositionLag:
    """Position queries answer with the positions as they were ``ms`` ago (a stale position list)."""

    ms: int

    def __post_init__(self) -> None:
        if self.ms <= 0:
            raise ValueError(f"PositionLag needs ms > 0, got {self.ms}")


QueryEffect = VisibilityLag | PositionLag
MarketEffect = LiquidityCap
Effect = RestEffect | StreamEffect | QueryEffect | MarketEffect


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    target: RestTarget | StreamTarget | QueryTarget | MarketTarget
    effect: Effect
    trigger: Trigger = field(default_factory=OnCall)

    def __post_init__(self) -> None:
        if isinstance(self.effect, DropFrame | DelayFrame | CloseStream | AbortStream | DuplicateFrame | ReplaceFrame):
            wanted: type = StreamTarget
        elif isinstance(self.effect, VisibilityLag | PositionLag):
            wanted = QueryTarget
            books = "orders" if isinstance(self.effect, VisibilityLag) else "positions"
            if isinstance(self.target, QueryTarget) and self.target.books != books:
                raise ValueError(f"fault {self.name!r}: {type(self.effect).__name__} acts on QueryTarget({books!r})")
        elif isinstance(self.effect, LiquidityCap):
            wanted = MarketTarget
        else:
            wanted = RestTarget
        if wanted is not RestTarget and wanted is not StreamTarget and isinstance(self.trigger, OnCall) \
                and self.trigger != OnCall():
            raise ValueError(f"fault {self.name!r}: {type(self.effect).__name__} acts on every query or order, not"
                             " on the n-th call; limit it with During(start_ms, end_ms) or WithProbability(p)")
        if not isinstance(self.target, wanted):
            raise ValueError(f"fault {self.name!r}: {type(self.effect).__name__} acts on a {wanted.__name__}, but the"
                             f" target is {self.target!r}; use a {wanted.__name__}")


class FaultPlan:
    """The faults a venue applies, each counting the calls that match its target.

    ``now_ms`` and ``rng`` are the venue's clock and a seeded generator of its own: ``During`` and
    ``WithProbability`` need them. Query and market faults (lags, liquidity) act on every event
    under ``OnCall``; ``During`` and ``WithProbability`` limit them as they do calls.
    """

    def __init__(self, trace: Recorder = NO_TRACE, actor: str = "venue", *,
                 now_ms: Callable[[], int] | None = None, rng: random.Random | None = None) -> None:
        self._faults: list[Fault] = []
        self._calls: dict[str, int] = {}
        self._planned_ms: dict[str, int] = {}
        self._per_order: dict[tuple[str, str], bool] = {}
        self._trace = trace
        self._actor = actor
        self._now_ms = now_ms
        self._rng = rng

    @classmethod
    def for_engine(cls, engine: Any, trace: Recorder, actor: str) -> FaultPlan:
        """A venue's plan: the engine's clock, a seeded generator of its own (drawn from the engine's
        ids, so the run's seed decides it), and installed in the engine's query model and matching."""
        plan = cls(trace, actor, now_ms=engine.now_ms, rng=random.Random(engine.ids.child().uid()))
        engine.faults = plan
        return plan

    @property
    def faults(self) -> tuple[Fault, ...]:
        return tuple(self._faults)

    def add(self, fault: Fault) -> None:
        if any(f.name == fault.name for f in self._faults):
            raise ValueError(f"a fault named {fault.name!r} is already planned; names identify faults in the trace")
        if isinstance(fault.trigger, During) and self._now_ms is None:
            raise ValueError(f"fault {fault.name!r}: During needs a plan with the venue's clock (FaultPlan(now_ms=...))")
        if isinstance(fault.trigger, WithProbability) and self._rng is None:
            raise ValueError(f"fault {fault.name!r}: WithProbability needs a plan with a seeded rng (FaultPlan(rng=...))")
        self._faults.append(fault)
        self._calls[fault.name] = 0
        self._planned_ms[fault.name] = self._now_ms() if self._now_ms is not None else 0

    def remove(self, name: str) -> None:
        """Take one fault out of the plan (by name); unknown names are refused with the planned ones."""
        if not any(f.name == name for f in self._faults):
            raise ValueError(f"no fault named {name!r} is planned; planned: {[f.name for f in self._faults]}")
        self._faults = [f for f in self._faults if f.name != name]
        self._calls.pop(name, None)
        self._planned_ms.pop(name, None)

    def clear(self) -> None:
        self._faults.clear()
        self._calls.clear()
        self._planned_ms.clear()

    def _fires(self, fault: Fault, *, counted: bool) -> bool:
        trigger = fault.trigger
        if isinstance(trigger, OnCall):
            return trigger.fires(self._calls[fault.name]) if counted else True
        if isinstance(trigger, During):
            assert self._now_ms is not None
            return trigger.covers(self._now_ms() - self._planned_ms[fault.name])
        assert self._rng is not None
        return self._rng.random() < trigger.p

    def delay_ms(self, latency: Latency) -> int:
        """The delay one application of ``latency`` adds: its fixed part plus a seeded draw of its jitter."""
        if latency.jitter_ms == 0:
            return latency.ms
        if self._rng is None:
            raise ValueError("Latency with jitter needs a plan with a seeded rng (FaultPlan(rng=...))")
        return latency.ms + self._rng.randint(0, latency.jitter_ms)

    def _fires_for(self, fault: Fault, order_id: str) -> bool:
        """Whether ``fault`` acts on this order now. A probability is drawn once per order, so a hidden
        order stays hidden for the whole lag rather than flickering from query to query."""
        if not isinstance(fault.trigger, WithProbability):
            return self._fires(fault, counted=False)
        key = (fault.name, order_id)
        if key not in self._per_order:
            self._per_order[key] = self._fires(fault, counted=False)
        return self._per_order[key]

    def pick(self, method: str, path: str) -> Fault | None:
        """The first planned REST fault that fires on this call; every matching fault counts the call."""
        return self._first_firing(lambda f: isinstance(f.target, RestTarget) and f.target.matches(method, path))

    def pick_frame(self, path: str, topic: object) -> Fault | None:
        """The first planned WebSocket fault that fires on this outgoing frame; matching faults count it."""
        return self._first_firing(lambda f: isinstance(f.target, StreamTarget) and f.target.matches(path, topic))

    def pick_pong(self, path: str) -> Fault | None:
        """The first fault that holds back a protocol-level pong on ``path``: only faults aimed at the
        "pong" topic that drop or delay, so faults on every frame neither count nor draw for pongs."""
        return self._first_firing(lambda f: isinstance(f.target, StreamTarget) and f.target.topic == "pong"
                                  and f.target.matches(path, "pong") and isinstance(f.effect, DropFrame | DelayFrame))

    def _first_firing(self, matches: Callable[[Fault], bool]) -> Fault | None:
        chosen = None
        for fault in self._faults:
            if matches(fault):
                self._calls[fault.name] += 1
                if chosen is None and self._fires(fault, counted=True):
                    chosen = fault
        return chosen

    def hidden_from_queries(self, created_ms: int, now_ms: int, order_id: str) -> bool:
        """Whether an order created at ``created_ms`` is still invisible to order queries at ``now_ms``."""
        for fault in self._faults:
            if isinstance(fault.effect, VisibilityLag) and now_ms - created_ms < fault.effect.ms \
                    and self._fires_for(fault, order_id):
                self.note(fault.name, order_id=order_id, told=f"not found (created {now_ms - created_ms} ms ago)")
                return True
        return False

    def market_fill(self, symbol: str, wanted: Decimal, order_id: str) -> Decimal:
        """How much of a market order for ``wanted`` the book lets fill now."""
        for fault in self._faults:
            if isinstance(fault.effect, LiquidityCap) and isinstance(fault.target, MarketTarget) \
                    and fault.target.matches(symbol) and wanted > fault.effect.qty and self._fires(fault, counted=False):
                self.note(fault.name, order_id=order_id, told=f"filled {fault.effect.qty} of {wanted}, the rest cancelled")
                return fault.effect.qty
        return wanted

    def position_lag(self) -> tuple[str, int] | None:
        """The planned position-list lag (fault name, ms), if any."""
        for fault in self._faults:
            if isinstance(fault.effect, PositionLag) and self._fires(fault, counted=False):
                return fault.name, fault.effect.ms
        return None

    def note(self, name: str, **fields: object) -> None:
        self._trace.record(self._actor, "fault", name=name, applied=True, **fields)
