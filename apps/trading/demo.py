"""The demo set-up of trading: a paper account with 100,000 USD for the demo user."""

from decimal import Decimal

from django.conf import settings

from apps.accounts.models import User
from apps.trading.models import TradingAccount
from apps.trading.services import account_open

DEMO_ACCOUNT = "Demo paper"


def setup_demo() -> str:
    user = User.objects.get(username=settings.DEMO_USERNAME)
    account = TradingAccount.objects.filter(owner=user, name=DEMO_ACCOUNT).first()
    if account is None:
        account = account_open(
            owner=user, name=DEMO_ACCOUNT, currency="USD", deposit=Decimal("100000")
        )
    return f"paper account {account.name!r}, balance {account.balance:,.2f} {account.currency}"
