"""Instruments: created and edited by operators (admin and API)."""

from __future__ import annotations

from django.db import transaction

from apps.marketdata.models import Instrument


@transaction.atomic
def instrument_create(**fields) -> Instrument:
    instrument = Instrument(**fields)
    instrument.full_clean()
    instrument.save()
    return instrument


@transaction.atomic
def instrument_update(*, instrument: Instrument, **changes) -> Instrument:
    for name, value in changes.items():
        setattr(instrument, name, value)
    instrument.full_clean()
    instrument.save()
    return instrument
