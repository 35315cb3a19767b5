"""Risk tasks, on the ``risk`` queue: they take ids and call one service."""

from celery import shared_task

from apps.risk import selectors, services


@shared_task(name="apps.risk.tasks.monitor_account", acks_late=True, ignore_result=True, expires=30)
def monitor_account(account_id: int) -> str:
    """Value one account, act on breaches and stop-outs."""
    return services.account_monitor(account_id)["status"]


@shared_task(name="apps.risk.tasks.monitor_sweep", ignore_result=True, expires=5)
def monitor_sweep() -> int:
    """Beat: queue a valuation of every account with open positions."""
    return services.monitor_request(selectors.accounts_to_monitor())


@shared_task(
    name="apps.risk.tasks.kill_switch", acks_late=True, soft_time_limit=540, time_limit=600
)
def kill_switch(
    scope: str,
    account_id: int | None = None,
    flatten: bool = False,
    user_id: int | None = None,
    actor: str = "kill_switch",
    reason: str = "",
) -> dict:
    """Run the kill switch (idempotent, so a second delivery does nothing new)."""
    from django.contrib.auth import get_user_model

    from apps.trading.models import TradingAccount

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    account = TradingAccount.objects.filter(pk=account_id).first() if account_id else None
    if scope == "account" and account is None:
        return {"error": f"account {account_id} not found"}
    return services.kill_switch(
        scope=scope,
        account=account,
        flatten=flatten,
        actor=user or actor,
        reason=reason or "kill switch task",
    )


def on_ticks_stored(sender, instrument_id, **kwargs) -> None:
    """Receiver of ``marketdata.signals.ticks_stored`` (live ticks committed):
    value the accounts holding the instrument, throttled (see ``on_prices``)."""
    services.on_prices([instrument_id])
