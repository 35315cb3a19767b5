"""Every allowed and every refused transition of the order state machine."""

import itertools

import pytest

from apps.trading import states
from apps.trading.models import Order

ALLOWED = {
    ("new", "accepted"),
    ("new", "rejected"),
    ("new", "cancelled"),
    ("accepted", "partially_filled"),
    ("accepted", "filled"),
    ("accepted", "cancelled"),
    ("accepted", "expired"),
    ("accepted", "rejected"),
    ("partially_filled", "partially_filled"),
    ("partially_filled", "filled"),
    ("partially_filled", "cancelled"),
    ("partially_filled", "expired"),
}


@pytest.mark.parametrize("current,target", list(itertools.product(states.ALL, states.ALL)))
def test_transition_table(current, target):
    assert states.can_transition(current, target) is ((current, target) in ALLOWED)


def test_final_states_accept_nothing_and_match_the_model():
    assert set(states.ALL) == set(Order.Status.values)
    assert states.FINAL == set(Order.FINAL)
    for final in states.FINAL:
        assert not states.can_cancel(final) and not states.can_amend(final)
    for live in set(states.ALL) - states.FINAL:
        assert states.can_cancel(live)
