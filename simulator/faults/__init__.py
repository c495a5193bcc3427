"""Faults: named frozen values that enter a venue through one seam (REST: an aiohttp middleware).

    venue.faults.add(Fault("create lost after fill", RestTarget("POST", "/v5/order/create"), DropAfterApply()))
    venue.faults.add(Fault("order push lost", StreamTarget("/v5/private", "order"), DropFrame()))

WebSocket faults enter through one frame router every outgoing frame passes (``faults/ws.py``).
Endpoint handlers carry no fault code. Every applied fault is recorded in the trace with what the
venue did and what the client was told.
"""

from simulator.faults.plan import (
    ANY,
    AbortStream,
    AnswerAfterApply,
    CloseStream,
    DelayFrame,
    DropAfterApply,
    DropBeforeApply,
    DropFrame,
    DuplicateFrame,
    During,
    Effect,
    Fault,
    FaultPlan,
    HttpAnswer,
    Latency,
    LiquidityCap,
    MarketTarget,
    OnCall,
    PositionLag,
    QueryTarget,
    ReplaceFrame,
    RestTarget,
    StreamTarget,
    Trigger,
    TruncatedAnswer,
    VisibilityLag,
    WithProbability,
)
from simulator.faults.spec import FaultSpecError, fault_from_table

__all__ = [
    "ANY", "AbortStream", "DuplicateFrame", "During", "ReplaceFrame", "Trigger", "TruncatedAnswer", "WithProbability",
    "AnswerAfterApply", "FaultSpecError", "Latency", "LiquidityCap", "MarketTarget", "PositionLag", "fault_from_table",
    "CloseStream", "DelayFrame", "DropAfterApply", "DropBeforeApply", "DropFrame", "Effect", "Fault", "FaultPlan",
    "HttpAnswer", "OnCall", "QueryTarget", "RestTarget", "StreamTarget", "VisibilityLag",
]
