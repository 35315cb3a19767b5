"""``manage.py demo_setup`` — the demo data ``make run`` creates.

Each app may have a ``demo.py`` with ``setup_demo() -> str``; they run in
``INSTALLED_APPS`` order (accounts first, so later apps can use the user).
"""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create or refresh the demo user and the demo data of every app."

    def handle(self, *args, **options) -> None:
        for config in apps.get_app_configs():
            if not config.name.startswith("apps."):
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name == f"{config.name}.demo":
                    continue
                raise
            with transaction.atomic():
                summary = module.setup_demo()
            self.stdout.write(f"demo: {config.label}: {summary}")
