from __future__ import annotations

import itertools
import re

import pytest

from bot.lifecycle import FINAL, TRANSITIONS, IllegalTransition, IntentState, check_transition

FINAL_STATES = [IntentState.OPEN, IntentState.ENTRY_FAILED, IntentState.ROLLED_BACK]
NON_FINAL_STATES = [s for s in IntentState if s not in FINAL_STATES]
ALL_PAIRS = list(itertools.product(IntentState, IntentState))


def reachable(start: IntentState) -> set[IntentState]:
    """Every state reachable from ``start`` in one or more transitions."""
    seen: set[IntentState] = set()
    frontier = list(TRANSITIONS[start])
    while frontier:
        state = frontier.pop()
        if state not in seen:
            seen.add(state)
            frontier.extend(TRANSITIONS[state])
    return seen


def test_every_state_has_a_table_entry():
    assert set(TRANSITIONS) == set(IntentState)


def test_every_target_in_the_table_is_a_state():
    assert all(isinstance(target, IntentState) for targets in TRANSITIONS.values() for target in targets)


def test_final_set_is_exactly_open_entry_failed_and_rolled_back():
    assert FINAL == frozenset(FINAL_STATES)


@pytest.mark.parametrize("state", FINAL_STATES, ids=lambda s: s.value)
def test_final_state_has_no_exits_and_is_final(state):
    assert TRANSITIONS[state] == frozenset()
    assert state.is_final


@pytest.mark.parametrize("state", NON_FINAL_STATES, ids=lambda s: s.value)
def test_non_final_state_is_not_final_and_has_an_exit(state):
    assert not state.is_final
    assert TRANSITIONS[state]


@pytest.mark.parametrize("state", NON_FINAL_STATES, ids=lambda s: s.value)
def test_non_final_state_can_reach_a_final_state(state):
    assert reachable(state) & FINAL


@pytest.mark.parametrize("state", list(IntentState), ids=lambda s: s.value)
def test_no_state_can_return_to_itself(state):
    # A cycle would let resume loop forever without reaching a final state.
    assert state not in reachable(state)


def test_rolling_back_can_only_end_rolled_back():
    # Exposure existed, so the intent may never be recorded as if nothing happened on the venue.
    assert reachable(IntentState.ROLLING_BACK) == {IntentState.ROLLED_BACK}


def test_confirmed_cannot_be_marked_entry_failed():
    # A confirmed fill is exposure: from here on only rollback or protection may follow.
    assert IntentState.ENTRY_FAILED not in TRANSITIONS[IntentState.CONFIRMED]
    with pytest.raises(IllegalTransition):
        check_transition(IntentState.CONFIRMED, IntentState.ENTRY_FAILED)


@pytest.mark.parametrize("state", [IntentState.CONFIRMED, IntentState.PROTECTED], ids=lambda s: s.value)
def test_states_with_exposure_cannot_reach_entry_failed(state):
    assert IntentState.ENTRY_FAILED not in reachable(state)


def test_illegal_transition_message_names_both_states_and_the_allowed_targets():
    with pytest.raises(IllegalTransition) as caught:
        check_transition(IntentState.SUBMITTED, IntentState.OPEN)

    message = str(caught.value)
    assert "'submitted'" in message
    assert "'open'" in message
    assert "['confirmed', 'entry_failed']" in message


def test_illegal_transition_from_a_final_state_says_nothing_is_allowed():
    with pytest.raises(IllegalTransition, match=re.escape("allowed: nothing (final)")):
        check_transition(IntentState.OPEN, IntentState.NEW)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS, ids=[f"{a.value}->{b.value}" for a, b in ALL_PAIRS])
def test_check_transition_accepts_exactly_the_table(current, target):
    if target in TRANSITIONS[current]:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"{current.value!r} cannot move to {target.value!r}"):
            check_transition(current, target)
