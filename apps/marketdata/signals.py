"""Signals other apps may listen to (receivers only enqueue work)."""

from django.dispatch import Signal

# Sent after the transaction that stored live ticks commits, with
# ``instrument_id``, ``source_id``, ``first_us`` and ``last_us``.
ticks_stored = Signal()

# Sent after the transaction that stored live ticks commits when bars of the
# instrument closed, with ``instrument_id``, ``source_id`` and ``bars``: a
# list of ``(timeframe, open time in µs)``.
bars_closed = Signal()
