"""Roles are Django groups with a fixed set of permissions.

- ``viewer``: reads market data, its own accounts and reports.
- ``trader``: a viewer who trades their own accounts.
- ``operator``: runs the platform: admin, risk limits, kill switch.

Operators also hold every permission of the models of ``OPERATED_APPS``,
the platform's own apps, whose admin pages they run the platform from (each
``ModelAdmin`` still decides what is read-only and what cannot be deleted).
"""

from django.db import models

PERM_VIEW = "accounts.view_platform"
PERM_TRADE = "accounts.trade"
PERM_OPERATE = "accounts.operate"


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    TRADER = "trader", "Trader"
    OPERATOR = "operator", "Operator"


_OPERATOR_MODEL_PERMS = [
    f"{app}.{action}_{model}"
    for app, model in [
        ("accounts", "user"),
        ("accounts", "apikey"),
        ("django_celery_beat", "periodictask"),
        ("django_celery_beat", "intervalschedule"),
        ("django_celery_beat", "crontabschedule"),
        ("django_celery_beat", "solarschedule"),
        ("django_celery_beat", "clockedschedule"),
    ]
    for action in ("view", "add", "change", "delete")
]

#: The apps whose models operators manage in the admin (see the docstring).
OPERATED_APPS = ("marketdata", "strategies", "trading", "risk", "ml", "monitoring")

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.VIEWER: [PERM_VIEW],
    Role.TRADER: [PERM_VIEW, PERM_TRADE],
    Role.OPERATOR: [PERM_VIEW, PERM_TRADE, PERM_OPERATE, *_OPERATOR_MODEL_PERMS],
}
