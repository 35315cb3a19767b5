from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs) -> None:
    # Roles need the permissions Django creates in post_migrate, so they are
    # (re)created there too; this also restores them after a test flush.
    from apps.accounts.services import roles_sync

    roles_sync()


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        from apps.accounts import schema  # noqa: F401  (OpenAPI auth extension)

        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts-sync-roles")
