from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

import pgtrigger
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from personalpod.models import TimestampedModel, UUIDModel, uuid7


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, username: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("email is required")
        if not username:
            raise ValueError("username is required")
        user = self.model(email=self.normalize_email(email).lower(), username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, username: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, username, password, **extra)


# In the zone database, but not places: the server's own setting and tzdata's internals.
_NOT_ZONES = {"localtime", "posixrules", "Factory"}


def time_zones() -> set[str]:
    return zoneinfo.available_timezones() - _NOT_ZONES


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(time_zones())]


class User(AbstractBaseUser, PermissionsMixin, TimestampedModel):
    # Stored lower-cased; the functional constraint below also refuses case variants in raw SQL.
    email = models.EmailField(max_length=254, unique=True)
    username = models.CharField(max_length=150)
    # The identity provider's subject (e.g. the Cognito `sub`) for users who sign in through it.
    external_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # A PostgreSQL text-search configuration: how this user's entries are indexed for search.
    search_language = models.CharField(max_length=63, default="english")
    timezone = models.CharField(max_length=64, default="UTC")
    # The per-user change counter: the change feed's seq and every cache's version.
    change_seq = models.BigIntegerField(default=0)
    # The change_seq under which a search result page was last stored for this user
    # (entries/search_cache.py): while it is behind change_seq, no stored page can be
    # current, and a search skips the cache lookup. Read with the user, so it costs nothing.
    search_cache_seq = models.BigIntegerField(default=0, db_default=0, editable=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["username"]

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(UUIDModel):
    """A personal API token for scripts. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so that a person can tell their tokens apart.
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Action(models.TextChoices):
    SIGNUP = "signup"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    LOGOUT = "logout"
    SESSION_REVOKE = "session_revoke"
    PASSWORD_CHANGE = "password_change"
    PASSWORD_RESET_REQUEST = "password_reset_request"
    PASSWORD_RESET = "password_reset"
    PROFILE_UPDATE = "profile_update"
    TOKEN_CREATE = "token_create"
    TOKEN_REVOKE = "token_revoke"
    IDENTITY_REJECTED = "identity_rejected"
    USER_DEACTIVATE = "user_deactivate"
    ACTIVITY_PURGE = "activity_purge"
    KEY_ROTATE = "key_rotate"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"
    SHARE = "share"
    UNSHARE = "unshare"
    SHARE_ACCESS = "share_access"
    VIEW = "view"
    EXPORT = "export"
    IMPORT = "import"


class ActivityLog(models.Model):
    """The append-only audit trail. Actor, owner and target are plain ids: the log outlives
    what it names, and a foreign key would have to change (or vanish) with it."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    actor_id = models.UUIDField(null=True, blank=True)
    owner_id = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    target_type = models.CharField(max_length=32, blank=True, default="")
    target_id = models.CharField(max_length=64, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar = [
            models.Index(fields=["owner_id", "-created_at"], name="activity_owner_recent"),
            models.Index(fields=["target_type", "target_id", "-created_at"], name="activity_target_recent"),
            models.Index(fields=["actor_id", "-created_at"], name="activity_actor_recent"),
        ]
        triggers: ClassVar = [
            # Append-only: only the explicit, logged retention purge may delete (it ignores
            # this trigger for its own transaction; see accounts.activity.purge_activity).
            # TRUNCATE cannot be refused by a row trigger without breaking Django's test flush;
            # keeping it (and ALTER TABLE) from the application is for the database roles.
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id} at {self.created_at:%Y-%m-%d %H:%M}"


def signed_in_user(request: Any) -> User:
    """The request's user, for views that require sign-in (their permission already checked it)."""
    user = request.user
    if not isinstance(user, User):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    return user
