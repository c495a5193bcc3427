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


Effect = DropBeforeApply | DropAfterApply | HttpAnswer


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    target: RestTarget
    effect: Effect
    trigger: OnCall = field(default_factory=OnCall)


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
        """The first planned fault that fires on this call; every matching fault counts the call."""
        chosen = None
        for fault in self._faults:
            if fault.target.matches(method, path):
                self._calls[fault.name] += 1
                if chosen is None and fault.trigger.fires(self._calls[fault.name]):
                    chosen = fault
        return chosen
