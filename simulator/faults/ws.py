"""The WebSocket fault seam: one router every outgoing frame of a venue passes through.

A connection asks the router what to do with each frame before queueing it; the answer is a
stream effect from the plan, or nothing. Every applied fault is recorded with what the client got.
"""

from __future__ import annotations

from typing import Any

from simulator.faults.plan import (
    AbortStream,
    CloseStream,
    DelayFrame,
    DropFrame,
    DuplicateFrame,
    FaultPlan,
    ReplaceFrame,
    StreamEffect,
)
from virtualtime.trace import Recorder

_TOLD = {DropFrame: "nothing (frame dropped)", CloseStream: "the connection closed (1001)",
         AbortStream: "the connection reset, no close frame",
         DuplicateFrame: "the frame twice"}


class FrameRouter:
    def __init__(self, plan: FaultPlan, trace: Recorder, actor: str) -> None:
        self._plan = plan
        self._trace = trace
        self._actor = actor

    def route_pong(self, path: str, conn_id: str) -> DropFrame | DelayFrame | None:
        """What happens to a protocol-level pong: sent, dropped, or sent late."""
        fault = self._plan.pick_pong(path)
        if fault is None:
            return None
        effect = fault.effect
        assert isinstance(effect, DropFrame | DelayFrame)
        told = f"the pong {effect.ms} ms late" if isinstance(effect, DelayFrame) else "no pong"
        self._trace.record(self._actor, "fault", name=fault.name, stream=path, conn=conn_id, topic="pong", told=told)
        return effect

    def route(self, path: str, conn_id: str, message: dict[str, Any]) -> StreamEffect | None:
        # A push is known by its topic; a reply (pong, auth, subscribe) by its op; Binance events by "e".
        topic = message.get("topic") or message.get("op") or message.get("e")
        fault = self._plan.pick_frame(path, topic)
        if fault is None:
            return None
        effect = fault.effect
        assert isinstance(effect, DropFrame | DelayFrame | CloseStream | AbortStream | DuplicateFrame | ReplaceFrame)
        if isinstance(effect, DelayFrame):
            told = f"the frame {effect.ms} ms late"
        elif isinstance(effect, ReplaceFrame):
            told = f"instead: {effect.frame[:80]}"
        else:
            told = _TOLD[type(effect)]
        self._trace.record(self._actor, "fault", name=fault.name, stream=path, conn=conn_id, topic=topic, told=told)
        return effect
