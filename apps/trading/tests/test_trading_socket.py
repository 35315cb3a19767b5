"""``/ws/trading/`` through the ASGI application (real Redis channel layer):
risk events reach the account owner and every operator, once each, and no
other trader."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from apps.accounts import services
from fxsite.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def _socket(user) -> WebsocketCommunicator:
    pair = await database_sync_to_async(services.token_pair_for)(user=user)
    ws = WebsocketCommunicator(
        application, f"/ws/trading/?token={pair['access']}", headers=[(b"host", b"127.0.0.1")]
    )
    assert (await ws.connect())[0]
    assert (await ws.receive_json_from(timeout=5))["type"] == "welcome"
    return ws


async def _risk_events(ws) -> list[dict]:
    out = []
    while not await ws.receive_nothing(timeout=1.5):
        event = await ws.receive_json_from(timeout=5)
        if event.get("type") == "risk":
            out.append(event)
    return out


@pytest.fixture
def people(transactional_db):
    from decimal import Decimal

    from apps.accounts.tests.factories import UserFactory
    from apps.trading import services as trading

    owner = UserFactory(username="sock-owner", roles=["trader"])
    other = UserFactory(username="sock-other", roles=["trader"])
    operator = UserFactory(username="sock-operator", roles=["operator", "trader"])
    account = trading.account_open(owner=owner, name="Watched", deposit=Decimal("1000"))
    own = trading.account_open(owner=operator, name="Operator's", deposit=Decimal("1000"))
    return owner, other, operator, account, own


async def test_risk_events_reach_the_owner_and_operators_once(people):
    from apps.risk import services as risk

    owner, other, operator, account, own = people
    sockets = [await _socket(u) for u in (owner, other, operator)]
    await database_sync_to_async(risk.trading_state_set)(
        account=account, state="reducing", actor=operator, reason="socket test"
    )
    await database_sync_to_async(risk.trading_state_set)(
        account=own, state="reducing", actor=operator, reason="own account"
    )
    got = [await _risk_events(ws) for ws in sockets]
    owner_events, other_events, operator_events = got
    assert [e["account"] for e in owner_events] == [account.pk]
    assert other_events == []
    assert sorted(e["account"] for e in operator_events) == [account.pk, own.pk]  # no doubles
    assert operator_events[0]["actor"] and operator_events[0]["time"]
    for ws in sockets:
        await ws.disconnect()
