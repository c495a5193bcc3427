"""The fault vocabulary (REST so far) and the plan a venue consults on every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from virtualtime.trace import NO_TRACE, Recorder


@dataclass(frozen=True, slots=True)
class RestTarget:
    method: str  # "POST", "GET"
    path: str  # "/v5/order/create"

    def matches(self, method: str, path: str) -> bool:
        return self.method == method and self.path == path


@dataclass(frozen=True, slots=True)
class StreamTarget:
    """Frames the venue sends on a WebSocket path, optionally only those of one topic ("order", "position")."""

    path: str  # "/v5/private"
    topic: str | None = None

    def matches(self, path: str, topic: object) -> bool:
        return self.path == path and (self.topic is None or self.topic == topic)


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
class Latency:
    """The venue applies the request at once; its answer leaves ``ms`` later (longer than a client's
    timeout, it is a hang: the client gives up on a request that took effect)."""

    ms: int

    def __post_init__(self) -> None:
        if self.ms <= 0:
            raise ValueError(f"Latency needs ms > 0, got {self.ms}")


@dataclass(frozen=True, slots=True)
class LiquidityCap:
    """A market order fills at most ``qty`` (the book is that thin); the rest is cancelled."""

    qty: Decimal

    def __post_init__(self) -> None:
        if self.qty <= 0:
            raise ValueError(f"LiquidityCap needs qty > 0, got {self.qty}")


RestEffect = DropBeforeApply | DropAfterApply | HttpAnswer | AnswerAfterApply | Latency
StreamEffect = DropFrame | DelayFrame | CloseStream
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
    trigger: OnCall = field(default_factory=OnCall)

    def __post_init__(self) -> None:
        if isinstance(self.effect, DropFrame | DelayFrame | CloseStream):
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
        if not isinstance(self.target, wanted):
            raise ValueError(f"fault {self.name!r}: {type(self.effect).__name__} acts on a {wanted.__name__}, but the"
                             f" target is {self.target!r}; use a {wanted.__name__}")


class FaultPlan:
    """The faults a venue applies, each counting the calls that match its target."""

    def __init__(self, trace: Recorder = NO_TRACE, actor: str = "venue") -> None:
        self._faults: list[Fault] = []
        self._calls: dict[str, int] = {}
        self._trace = trace
        self._actor = actor

    @property
    def faults(self) -> tuple[Fault, ...]:
        return tuple(self._faults)

    def add(self, fault: Fault) -> None:
        if any(f.name == fault.name for f in self._faults):
            raise ValueError(f"a fault named {fault.name!r} is already planned; names identify faults in the trace")
        self._faults.append(fault)
        self._calls[fault.name] = 0

    def clear(self) -> None:
        self._faults.clear()
        self._calls.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        """The first planned REST fault that fires on this call; every matching fault counts the call."""
        chosen = None
        for fault in self._faults:
            if isinstance(fault.target, RestTarget) and fault.target.matches(method, path):
                self._calls[fault.name] += 1
                if chosen is None and fault.trigger.fires(self._calls[fault.name]):
                    chosen = fault
        return chosen

    def pick_frame(self, path: str, topic: object) -> Fault | None:
        """The first planned WebSocket fault that fires on this outgoing frame; matching faults count it."""
        chosen = None
        for fault in self._faults:
            if isinstance(fault.target, StreamTarget) and fault.target.matches(path, topic):
                self._calls[fault.name] += 1
                if chosen is None and fault.trigger.fires(self._calls[fault.name]):
                    chosen = fault
        return chosen

    def hidden_from_queries(self, created_ms: int, now_ms: int, order_id: str) -> bool:
        """Whether an order created at ``created_ms`` is still invisible to order queries at ``now_ms``."""
        for fault in self._faults:
            if isinstance(fault.effect, VisibilityLag) and now_ms - created_ms < fault.effect.ms:
                self.note(fault.name, order_id=order_id, told=f"not found (created {now_ms - created_ms} ms ago)")
                return True
        return False

    def market_fill(self, symbol: str, wanted: Decimal, order_id: str) -> Decimal:
        """How much of a market order for ``wanted`` the book lets fill now."""
        for fault in self._faults:
            if isinstance(fault.effect, LiquidityCap) and isinstance(fault.target, MarketTarget) \
                    and fault.target.matches(symbol) and wanted > fault.effect.qty:
                self.note(fault.name, order_id=order_id, told=f"filled {fault.effect.qty} of {wanted}, the rest cancelled")
                return fault.effect.qty
        return wanted

    def position_lag(self) -> tuple[str, int] | None:
        """The planned position-list lag (fault name, ms), if any."""
        for fault in self._faults:
            if isinstance(fault.effect, PositionLag):
                return fault.name, fault.effect.ms
        return None

    def note(self, name: str, **fields: object) -> None:
        self._trace.record(self._actor, "fault", name=name, applied=True, **fields)
