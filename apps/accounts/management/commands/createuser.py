"""``manage.py createuser USERNAME --role trader`` — how operators add users."""

import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.accounts import services
from apps.accounts.roles import Role


class Command(BaseCommand):
    help = "Create a platform user with one or more roles (viewer, trader, operator)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--role",
            action="append",
            choices=Role.values,
            dest="roles",
            help="Repeat for several roles; default viewer.",
        )
        parser.add_argument(
            "--password-env",
            metavar="VAR",
            help="Read the password from this environment variable instead of prompting.",
        )
        parser.add_argument("--superuser", action="store_true")

    def handle(self, *args, username: str, email: str, roles, password_env, superuser, **kw):
        if password_env:
            password = os.environ.get(password_env)
            if not password:
                raise CommandError(f"Environment variable {password_env} is empty or unset.")
        else:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("Passwords do not match.")
        try:
            user = services.user_create(
                username=username,
                password=password,
                email=email,
                roles=roles or [Role.VIEWER],
                is_superuser=superuser,
            )
        except ValidationError as exc:
            messages = (
                "; ".join(
                    f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()
                )
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
            raise CommandError(messages) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created user {user.username} with roles {', '.join(roles or ['viewer'])}."
            )
        )
