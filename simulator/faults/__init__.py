"""Faults: named frozen values that enter a venue through one seam (REST: an aiohttp middleware).

    venue.faults.add(Fault("create lost after fill", RestTarget("POST", "/v5/order/create"), DropAfterApply()))

Endpoint handlers carry no fault code. Every applied fault is recorded in the trace with what the
venue did and what the client was told.
"""

from simulator.faults.plan import (
    DropAfterApply,
    DropBeforeApply,
    Effect,
    Fault,
    FaultPlan,
    HttpAnswer,
    OnCall,
    RestTarget,
)

__all__ = ["DropAfterApply", "DropBeforeApply", "Effect", "Fault", "FaultPlan", "HttpAnswer", "OnCall", "RestTarget"]
