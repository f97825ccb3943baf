"""Shares: an entry shared with another user, or through a link anyone holding it may open.

What a share allows is enforced in the query (entries.models.EntryQuerySet.visible_to and
editable_by read live shares through `Entry.shares`), so a share stops working at the
instant it is revoked or expires, with no job and no cache in between.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now

from entries.models import Entry
from personalpod.models import UUIDModel


class Permission(models.TextChoices):
    READ = "read"  # see the entry and its attachments; secrets through reveal
    WRITE = "write"  # also change it, as its owner would (not delete it forever)
    ADMIN = "admin"  # also manage its shares


# How every page names a permission: the share dialog's choices, the owner's list of people
# and the grantee's "Shared with me". Not the choices' own labels: those are migration state.
PERMISSION_LABELS: dict[str, str] = {
    Permission.READ: "Can read",
    Permission.WRITE: "Can edit",  # the words, not the state: no archive or trash
    Permission.ADMIN: "Can manage (edit, share, archive, trash)",
}


class State(models.TextChoices):
    LIVE = "live"
    REVOKED = "revoked"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # a link opened as many times as it allows


def live_q(prefix: str = "") -> Q:
    """Not revoked and not expired, by the database's clock at this statement."""
    return Q(**{f"{prefix}revoked_at__isnull": True}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": Now()})
    )


class ShareQuerySet(models.QuerySet["Share"]):
    def live(self) -> ShareQuerySet:
        return self.filter(live_q())

    def openable(self) -> ShareQuerySet:
        """Live, and (for a link) not yet opened as many times as it allows."""
        return self.live().filter(Q(max_access_count__isnull=True) | Q(access_count__lt=F("max_access_count")))

    def with_users(self) -> ShareQuerySet:
        return self.filter(grantee__isnull=False)

    def links(self) -> ShareQuerySet:
        return self.filter(grantee__isnull=True)

    def in_state(self, state: str) -> ShareQuerySet:
        now = Now()
        if state == State.REVOKED:
            return self.filter(revoked_at__isnull=False)
        if state == State.EXPIRED:
            return self.filter(revoked_at__isnull=True, expires_at__lte=now)
        exhausted = Q(max_access_count__isnull=False) & Q(access_count__gte=F("max_access_count"))
        if state == State.EXHAUSTED:
            return self.live().filter(exhausted)
        return self.live().exclude(exhausted)


class Share(UUIDModel):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="shares")
    # The entry's owner, kept here so that "everyone Alice shares with" is one index lookup
    # (every write of hers locks those users' rows: entries.feed.lock_owner).
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares_given")
    # The owner, or a grantee with admin permission who shared it further.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A user share has a grantee; a link has none, and a token instead.
    grantee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="shares_received"
    )
    permission = models.CharField(max_length=8, choices=Permission.choices, default=Permission.READ)
    # A link's token is shown once, when it is made; only its SHA-256 is kept.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    # Its first characters, so that a person can tell their links apart.
    token_prefix = models.CharField(max_length=12, blank=True, default="", editable=False)
    passphrase_hash = models.CharField(max_length=256, blank=True, default="", editable=False)
    # Whether a link shows the entry's secrets (a password, a sensitive entry's words) on request.
    is_reveal_allowed = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_access_count = models.PositiveIntegerField(null=True, blank=True)
    access_count = models.PositiveIntegerField(default=0)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When housekeeping noticed the expiry and told the grantee's devices (the share stopped
    # working at expires_at itself).
    expiry_recorded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShareQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at", "-id")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(grantee__isnull=False, token_hash__isnull=True)
                | Q(grantee__isnull=True, token_hash__isnull=False),
                name="share_user_or_link",
            ),
            models.CheckConstraint(condition=Q(permission__in=Permission.values), name="share_permission_known"),
            models.CheckConstraint(
                condition=Q(grantee__isnull=True) | ~Q(grantee=F("owner")), name="share_not_with_owner"
            ),
            models.CheckConstraint(
                condition=Q(grantee__isnull=True) | Q(max_access_count__isnull=True, passphrase_hash=""),
                name="share_limits_on_links_only",
            ),
            models.CheckConstraint(
                condition=Q(grantee__isnull=False) | Q(permission=Permission.READ), name="share_links_read_only"
            ),
            models.CheckConstraint(
                condition=Q(max_access_count__isnull=True)
                | (Q(max_access_count__gte=1) & Q(access_count__lte=F("max_access_count"))),
                name="share_access_count_bounded",
            ),
            # One share per person and entry; a revoked or expired one may be followed by a new one.
            models.UniqueConstraint(
                "entry",
                "grantee",
                condition=Q(grantee__isnull=False, revoked_at__isnull=True, expiry_recorded_at__isnull=True),
                name="share_one_per_grantee",
            ),
        ]
        indexes: ClassVar = [
            # visible_to / editable_by: the entries shared with a user.
            models.Index(fields=["grantee", "entry"], name="share_grantee_open", condition=Q(revoked_at__isnull=True)),
            # lock_owner and the recipients of a change: the users an owner shares with.
            models.Index(
                fields=["owner"],
                name="share_owner_open_users",
                condition=Q(revoked_at__isnull=True, grantee__isnull=False),
            ),
            models.Index(fields=["entry", "-created_at"], name="share_entry_recent"),
            # Housekeeping: expired shares not yet recorded.
            models.Index(
                fields=["expires_at"],
                name="share_expiring",
                condition=Q(revoked_at__isnull=True, expiry_recorded_at__isnull=True, expires_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        target = f"link {self.token_prefix}…" if self.grantee_id is None else f"user {self.grantee_id}"
        return f"{self.permission} share of {self.entry_id} with {target}"

    @property
    def is_link(self) -> bool:
        return self.grantee_id is None

    def state_at(self, now: datetime) -> State:
        if self.revoked_at is not None:
            return State.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return State.EXPIRED
        if self.max_access_count is not None and self.access_count >= self.max_access_count:
            return State.EXHAUSTED
        return State.LIVE
