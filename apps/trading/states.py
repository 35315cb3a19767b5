"""The order state machine: which status may follow which.

    new ──► accepted ──► partially_filled ──► filled
     │         │  │             │  │
     │         │  └► expired ◄──┘  └► cancelled
     ├► rejected ◄┘ (a broker may still refuse an accepted order)
     └► cancelled

Final: filled, cancelled, rejected, expired — nothing follows them. A cancel
request is possible while an order can still fill; an amend while it rests
unfilled or partly filled.
"""

from __future__ import annotations

NEW, ACCEPTED, PARTIALLY_FILLED, FILLED = "new", "accepted", "partially_filled", "filled"
CANCELLED, REJECTED, EXPIRED = "cancelled", "rejected", "expired"

ALL = (NEW, ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELLED, REJECTED, EXPIRED)
FINAL = frozenset({FILLED, CANCELLED, REJECTED, EXPIRED})

TRANSITIONS: dict[str, frozenset[str]] = {
    NEW: frozenset({ACCEPTED, REJECTED, CANCELLED}),
    ACCEPTED: frozenset({PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED, REJECTED}),
    PARTIALLY_FILLED: frozenset({PARTIALLY_FILLED, FILLED, CANCELLED, EXPIRED}),
    FILLED: frozenset(),
    CANCELLED: frozenset(),
    REJECTED: frozenset(),
    EXPIRED: frozenset(),
}

CANCELLABLE = frozenset({NEW, ACCEPTED, PARTIALLY_FILLED})
AMENDABLE = frozenset({NEW, ACCEPTED, PARTIALLY_FILLED})


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def can_cancel(current: str) -> bool:
    return current in CANCELLABLE


def can_amend(current: str) -> bool:
    return current in AMENDABLE
