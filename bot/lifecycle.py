"""The position opener's lifecycle as an explicit transition table.

Every state is persisted before the next venue call, so a restart resumes from the last state the
database holds. ``OPEN``, ``ENTRY_FAILED`` and ``ROLLED_BACK`` are final; every other state is
unfinished work that ``PositionOpener.resume`` picks up.
"""

from __future__ import annotations

import enum


class IntentState(enum.Enum):
    NEW = "new"  # recorded, nothing sent
    SUBMITTING = "submitting"  # the entry may have been sent: its client id is fixed
    SUBMITTED = "submitted"  # the venue acknowledged the entry with an order id
    CONFIRMED = "confirmed"  # the fill is known (qty, price); the position is in the database
    PROTECTED = "protected"  # the stop-loss is on the venue and verified
    OPEN = "open"  # handed over: a protected position
    ENTRY_FAILED = "entry_failed"  # the venue holds no exposure for this intent
    ROLLING_BACK = "rolling_back"  # exposure exists that must be closed
    ROLLED_BACK = "rolled_back"  # the exposure was closed and the venue verified flat

    @property
    def is_final(self) -> bool:
        return self in FINAL


FINAL = frozenset({IntentState.OPEN, IntentState.ENTRY_FAILED, IntentState.ROLLED_BACK})

TRANSITIONS: dict[IntentState, frozenset[IntentState]] = {
    IntentState.NEW: frozenset({IntentState.SUBMITTING, IntentState.ENTRY_FAILED}),
    # From SUBMITTING a lost acknowledgement is resolved by the client id: straight to CONFIRMED
    # when the fill is found, ENTRY_FAILED when no source knows the order and the venue is flat.
    IntentState.SUBMITTING: frozenset({IntentState.SUBMITTED, IntentState.CONFIRMED, IntentState.ENTRY_FAILED}),
    IntentState.SUBMITTED: frozenset({IntentState.CONFIRMED, IntentState.ENTRY_FAILED}),
    IntentState.CONFIRMED: frozenset({IntentState.PROTECTED, IntentState.ROLLING_BACK}),
    IntentState.PROTECTED: frozenset({IntentState.OPEN}),
    IntentState.ROLLING_BACK: frozenset({IntentState.ROLLED_BACK}),
    IntentState.OPEN: frozenset(),
    IntentState.ENTRY_FAILED: frozenset(),
    IntentState.ROLLED_BACK: frozenset(),
}


class IllegalTransition(Exception):
    pass


def check_transition(current: IntentState, target: IntentState) -> None:
    if target not in TRANSITIONS[current]:
        allowed = sorted(s.value for s in TRANSITIONS[current]) or "nothing (final)"
        raise IllegalTransition(
            f"an intent in state {current.value!r} cannot move to {target.value!r}; allowed: {allowed}"
        )
