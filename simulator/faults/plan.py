"""The fault vocabulary (REST so far) and the plan a venue consults on every request."""

from __future__ import annotations

from dataclasses import dataclass, field


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


RestEffect = DropBeforeApply | DropAfterApply | HttpAnswer
StreamEffect = DropFrame | DelayFrame | CloseStream
Effect = RestEffect | StreamEffect


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    target: RestTarget | StreamTarget
    effect: Effect
    trigger: OnCall = field(default_factory=OnCall)

    def __post_init__(self) -> None:
        stream_effect = isinstance(self.effect, DropFrame | DelayFrame | CloseStream)
        if stream_effect != isinstance(self.target, StreamTarget):
            kind = "a WebSocket" if stream_effect else "a REST"
            raise ValueError(f"fault {self.name!r}: {type(self.effect).__name__} is {kind} effect, but the target is"
                             f" {self.target!r}; use a {'StreamTarget' if stream_effect else 'RestTarget'}")


class FaultPlan:
    """The faults a venue applies, each counting the calls that match its target."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._calls: dict[str, int] = {}

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
