from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """A person using the platform. Roles are groups (see ``roles.py``)."""

    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA time zone used to display times."
    )
    failed_login_count = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(
        null=True, blank=True, help_text="Logins are refused until this time."
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        permissions = [
            ("view_platform", "Can view market data, own accounts and reports"),
            ("trade", "Can trade own accounts"),
            ("operate", "Can operate the platform: risk limits, kill switch, admin"),
        ]

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class ApiKey(models.Model):
    """A machine credential: shown once at creation, stored as a SHA-256 hash."""

    is_api_key = True  # lets throttles and permissions recognise ``request.auth``

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        TRADE = "trade", "Read and trade"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_key = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="apikey_unique_name_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        now = timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
