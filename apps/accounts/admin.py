from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils import timezone

from apps.accounts import services
from apps.accounts.models import ApiKey, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "roles",
        "is_staff",
        "is_active",
        "locked",
        "last_login",
        "date_joined",
    ]
    list_filter = ["groups", "is_staff", "is_superuser", "is_active"]
    search_fields = ["username", "email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined", "failed_login_count"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Platform", {"fields": ("timezone", "failed_login_count", "locked_until")}),
    )
    actions = ["unlock_users"]

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all())) or "—"

    @admin.display(boolean=True, description="Locked")
    def locked(self, user: User) -> bool:
        return user.is_locked

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.action(description="Unlock selected users")
    def unlock_users(self, request, queryset) -> None:
        for user in queryset:
            services.user_unlock(user=user)
        self.message_user(request, f"Unlocked {queryset.count()} user(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "prefix",
        "scope",
        "is_active",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    fields = [
        "user",
        "name",
        "scope",
        "prefix",
        "expires_at",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke"]
    date_hierarchy = "created_at"

    @admin.display(boolean=True)
    def is_active(self, api_key: ApiKey) -> bool:
        return api_key.is_active

    def has_add_permission(self, request) -> bool:
        # Keys are created through the API so their secret can be shown once.
        return False

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset) -> None:
        for api_key in queryset:
            services.apikey_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {queryset.count()} key(s) at {timezone.now():%H:%M}.")
