"""Writes of the accounts domain: users, roles, logins, API keys, tokens."""

import hashlib
import secrets
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from apps.accounts.errors import AccountLocked, InvalidCredentials, InvalidToken
from apps.accounts.models import ApiKey, User
from apps.accounts.roles import OPERATED_APPS, PERM_TRADE, ROLE_PERMISSIONS, Role

API_KEY_PREFIX = "fx"
# Writing last_used_at on every request would turn reads into writes.
API_KEY_TOUCH_INTERVAL = timedelta(seconds=60)


# --- roles -----------------------------------------------------------------


def roles_sync() -> None:
    """Create the role groups and give each exactly its permissions (an
    operator also those of ``OPERATED_APPS``' models)."""
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".", 1)
            perm = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:  # an app not migrated yet; synced on its migrate
                perms.append(perm)
        if role == Role.OPERATOR:
            perms += Permission.objects.filter(content_type__app_label__in=OPERATED_APPS)
        group.permissions.set(perms)


@transaction.atomic
def user_set_roles(*, user: User, roles: list[str]) -> User:
    roles_sync()
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise ValidationError({"roles": [f"Unknown role(s): {', '.join(unknown)}."]})
    user.groups.set(Group.objects.filter(name__in=roles))
    # Operators use the admin; nobody else needs it.
    user.is_staff = user.is_superuser or Role.OPERATOR in roles
    user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    email: str = "",
    roles: list[str] | None = None,
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
) -> User:
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": ["A user with that username already exists."]})
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_superuser=is_superuser,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user_set_roles(user=user, roles=roles if roles is not None else [Role.VIEWER])


def user_update_profile(*, user: User, **changes: str) -> User:
    allowed = {"first_name", "last_name", "email", "timezone"}
    unexpected = set(changes) - allowed
    if unexpected:
        raise ValidationError({name: ["This field cannot be changed."] for name in unexpected})
    if "timezone" in changes and changes["timezone"] not in zoneinfo.available_timezones():
        raise ValidationError({"timezone": [f"Unknown time zone {changes['timezone']!r}."]})
    for name, value in changes.items():
        setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save(update_fields=list(changes))
    return user


# --- logins and lockout ------------------------------------------------------


def login_lock_check(*, username: str) -> None:
    user = User.objects.filter(username=username).only("locked_until").first()
    if user is not None and user.is_locked:
        raise AccountLocked(
            f"Too many failed logins; the account is locked until "
            f"{user.locked_until.isoformat(timespec='seconds')}.",
            extra={"locked_until": user.locked_until.isoformat()},
        )


@transaction.atomic
def login_failure_record(*, username: str) -> None:
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        return
    user.failed_login_count += 1
    if user.failed_login_count >= settings.ACCOUNTS_LOCKOUT_THRESHOLD:
        user.locked_until = timezone.now() + timedelta(minutes=settings.ACCOUNTS_LOCKOUT_MINUTES)
        user.failed_login_count = 0
    user.save(update_fields=["failed_login_count", "locked_until"])


def login_success_record(*, user: User) -> None:
    if user.failed_login_count or user.locked_until:
        User.objects.filter(pk=user.pk).update(failed_login_count=0, locked_until=None)


def user_unlock(*, user: User) -> User:
    user.failed_login_count = 0
    user.locked_until = None
    user.save(update_fields=["failed_login_count", "locked_until"])
    return user


def login_authenticate(*, request: HttpRequest | None, username: str, password: str) -> User:
    """Check credentials with lockout; raise ``AccountLocked``/``InvalidCredentials``."""
    login_lock_check(username=username)
    user = authenticate(request, username=username, password=password)
    if user is None:
        login_lock_check(username=username)  # this failure may have locked it
        raise InvalidCredentials()
    return user


def token_pair_for(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


def token_logout(*, refresh: str) -> None:
    """Blacklist a refresh token; logging out twice is harmless."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        if _refresh_already_blacklisted(refresh):
            return
        raise InvalidToken(str(exc), fields={"refresh": [str(exc)]}) from exc
    token.blacklist()


def _refresh_already_blacklisted(refresh: str) -> bool:
    try:
        jti = RefreshToken(refresh, verify=False).get("jti")
    except TokenError:
        return False
    return BlacklistedToken.objects.filter(token__jti=jti).exists()


# --- API keys ----------------------------------------------------------------


def _hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def apikey_create(
    *, user: User, name: str, scope: str = ApiKey.Scope.READ, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Create a key; the raw key is returned once and never stored."""
    if ApiKey.objects.filter(user=user, name=name).exists():
        raise ValidationError({"name": ["You already have an API key with this name."]})
    if scope == ApiKey.Scope.TRADE and not user.has_perm(PERM_TRADE):
        raise ValidationError({"scope": ["You need the trader role to create a trading key."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": ["The expiry must be in the future."]})
    prefix = secrets.token_hex(4)
    raw_key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(
        user=user,
        name=name,
        prefix=prefix,
        hashed_key=_hash_key(raw_key),
        scope=scope,
        expires_at=expires_at,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw_key


def apikey_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def apikey_authenticate(*, raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key`` (its last use recorded), else None."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    api_key = (
        ApiKey.objects.select_related("user")
        .filter(prefix=parts[1], hashed_key=_hash_key(raw_key))
        .first()
    )
    if api_key is None or not api_key.is_active or not api_key.user.is_active:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def token_resolve(*, raw_token: str) -> tuple[User, ApiKey | None] | None:
    """Resolve a JWT access token or an API key (WebSocket auth) to its user."""
    if raw_token.startswith(f"{API_KEY_PREFIX}_"):
        api_key = apikey_authenticate(raw_key=raw_token)
        return (api_key.user, api_key) if api_key else None
    try:
        access = AccessToken(raw_token)
    except TokenError:
        return None
    user_id = access.get(settings.SIMPLE_JWT.get("USER_ID_CLAIM", "user_id"))
    user = User.objects.filter(pk=user_id, is_active=True).first()
    return (user, None) if user else None
