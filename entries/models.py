"""Entries and how they are organised: categories, tags, history and the change feed.

Invariants the database keeps itself (pgtrigger triggers, installed by migrations), so
bulk updates, admin edits and raw SQL cannot leave them wrong: `updated_at` on every
update, each tag's `usage_count`, and tag slugs.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pgtrigger
from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Now
from django.utils import timezone

from personalpod.models import TimestampedModel, UUIDModel

TITLE_MAX_LENGTH = 300


def touch_updated_at(name: str = "touch_updated_at", exclude: list[str] | None = None) -> pgtrigger.Trigger:
    """A trigger that stamps `updated_at` on every update that changes the row (derived
    columns in EXCLUDE do not count as a change)."""
    return pgtrigger.Trigger(
        name=name,
        operation=pgtrigger.Update,
        when=pgtrigger.Before,
        condition=pgtrigger.AnyChange(exclude=exclude),
        # clock_timestamp(), not now(): the moment of the change, not of its transaction.
        func="NEW.updated_at = clock_timestamp(); RETURN NEW;",
    )


class EntryType(models.TextChoices):
    NOTE = "note"
    PASSWORD = "password"  # noqa: S105 - a type of entry, not a password
    DOCUMENT = "document"
    BOOKMARK = "bookmark"
    TASK = "task"
    CONTACT = "contact"


class Status(models.TextChoices):
    ACTIVE = "active"
    ARCHIVED = "archived"
    DELETED = "deleted"  # in the trash: restorable until purged
    DRAFT = "draft"


class Category(TimestampedModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="categories")
    # RESTRICT, not PROTECT: a whole tree may go when its owner's account is deleted.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT, related_name="children")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7, blank=True, default="")
    icon = models.CharField(max_length=32, blank=True, default="")
    is_system = models.BooleanField(default=False)
    # 0 for a top-level category; kept by the one service that creates and moves them.
    depth = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ("name",)
        constraints: ClassVar = [
            # NULLS NOT DISTINCT: two top-level categories may not share a name either.
            models.UniqueConstraint(
                "owner", "parent", Lower("name"), name="category_unique_name_per_parent", nulls_distinct=False
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="category_not_its_own_parent"),
            models.CheckConstraint(condition=Q(depth__lt=8), name="category_depth_bounded"),
        ]
        triggers: ClassVar = [
            touch_updated_at(),
            pgtrigger.Trigger(
                name="refresh_search_on_rename",
                operation=pgtrigger.UpdateOf("name"),
                when=pgtrigger.After,
                func="UPDATE entries_entry SET search_vector = NULL WHERE category_id = NEW.id; RETURN NULL;",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Tag(TimestampedModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)
    slug = models.CharField(max_length=80, editable=False)
    color = models.CharField(max_length=7, blank=True, default="")
    # The number of entries carrying the tag: kept exact by the EntryTag triggers.
    usage_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ("name",)
        constraints: ClassVar = [models.UniqueConstraint("owner", "slug", name="tag_unique_slug_per_owner")]
        triggers: ClassVar = [
            touch_updated_at(),
            pgtrigger.Trigger(
                name="generate_slug",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                # entries_tag_slug() (migration 0015): lower-case letters and digits (any
                # script), "+" and "#" after one spelled out ("c-plusplus", "c-sharp"), runs of
                # anything else as one '-'. On every write, so that no statement can set a slug
                # that is not the name's.
                func="""
                    NEW.slug := entries_tag_slug(NEW.name);
                    RETURN NEW;
                """,
            ),
            pgtrigger.Trigger(
                name="refresh_search_on_rename",
                operation=pgtrigger.UpdateOf("name"),
                when=pgtrigger.After,
                func="""
                    UPDATE entries_entry SET search_vector = NULL
                    WHERE id IN (SELECT entry_id FROM entries_entrytag WHERE tag_id = NEW.id);
                    RETURN NULL;
                """,
            ),
            pgtrigger.Trigger(
                name="protect_usage_count",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                # Only the entry-tag triggers (nested, depth > 1) may change the count.
                func="""
                    IF pg_trigger_depth() = 1 THEN
                        IF TG_OP = 'INSERT' THEN NEW.usage_count := 0;
                        ELSE NEW.usage_count := OLD.usage_count; END IF;
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EqualsAny(models.Func):
    """`expression = ANY(array)`.

    Used as `id = ANY(ARRAY(subquery))`: PostgreSQL computes the array once (an InitPlan)
    and can OR it with an index scan on the owner (BitmapOr). An OR-ed `IN (subquery)` or
    `EXISTS` cannot use an index, and would read every user's entries.
    """

    output_field = models.BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, tuple[Any, ...]]:  # type: ignore[override]
        lhs, lhs_params = compiler.compile(self.source_expressions[0])
        rhs, rhs_params = compiler.compile(self.source_expressions[1])
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


# Share permissions that allow changing the entry (sharing.models.Permission; entries does
# not import sharing).
WRITE_PERMISSIONS = ("write", "admin")
MANAGE_PERMISSIONS = ("admin",)


class EntryQuerySet(models.QuerySet["Entry"]):
    def visible_to(self, user: Any) -> EntryQuerySet:
        """Entries USER may read: their own and those shared with them by a live share."""
        return self.filter(Q(owner=user) | self._shared_with(user))

    def shared_with(self, user: Any) -> EntryQuerySet:
        """Entries of others that USER may read through a live share."""
        return self.filter(self._shared_with(user)).exclude(owner=user)

    def editable_by(self, user: Any) -> EntryQuerySet:
        """Entries USER may change: their own and those shared with them to write (or administer)."""
        return self.filter(Q(owner=user) | self._shared_with(user, WRITE_PERMISSIONS))

    def managed_by(self, user: Any) -> EntryQuerySet:
        """Entries USER may archive, trash, restore and share: their own and those they administer."""
        return self.filter(Q(owner=user) | self._shared_with(user, MANAGE_PERMISSIONS))

    def _shared_with(self, user: Any, permissions: tuple[str, ...] = ()) -> EqualsAny:
        """Entries USER holds a live share on (not revoked, not expired, at this statement's
        time: an expiry takes effect at its instant, with no job). Links grant no one a view."""
        # sharing.Share, reached through the relation's name (apps import downward only).
        share: Any = self.model._meta.get_field("shares").related_model
        live = share._default_manager.filter(grantee=user, revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=Now())
        )
        if permissions:
            live = live.filter(permission__in=permissions)
        return EqualsAny(models.F("id"), ArraySubquery(live.order_by().values("entry_id")))


class Entry(TimestampedModel):
    # No index of its own: every read is one reader's (entry_owner_created). A table-wide
    # index on it made the planner read all vaults newest first to find one user's newest.
    created_at = models.DateTimeField(auto_now_add=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entries")
    type = models.CharField(max_length=16, choices=EntryType.choices)
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    content = models.TextField(blank=True, default="")
    # Filled by envelope encryption (secrets and sensitive entries); never searched.
    content_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    fields = models.JSONField(default=dict, blank=True)
    # A sensitive entry keeps its content and fields only in content_encrypted (not its title).
    is_sensitive = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries")
    tags: models.ManyToManyField[Tag, EntryTag] = models.ManyToManyField(
        Tag, through="EntryTag", related_name="entries", blank=True
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    trashed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # A sync conflict copy: a device's edit that collided with another, kept beside the original.
    conflict_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="conflict_copies"
    )
    # Kept by the database (see the refresh_search trigger and entries_search_document()):
    # title A, tags and category B, plain content and searchable fields C, in the owner's
    # search language. Only plain columns go in, so nothing encrypted ever does.
    search_vector = SearchVectorField(null=True, editable=False)
    keywords = ArrayField(models.CharField(max_length=100), default=list, blank=True, editable=False)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "entries"
        indexes: ClassVar = [
            models.Index(fields=["owner", "status", "-updated_at"], name="entry_owner_status_updated"),
            models.Index(fields=["owner", "-created_at"], name="entry_owner_created"),
            models.Index(fields=["owner", "type"], name="entry_owner_type"),
            models.Index(fields=["category"], name="entry_category"),
            models.Index(fields=["expires_at"], name="entry_expiring", condition=Q(expires_at__isnull=False)),
            models.Index(fields=["trashed_at"], name="entry_trashed", condition=Q(status="deleted")),
            # The search index is created by migration 0006 (not declared here): GIN on
            # (owner_id, search_vector) through btree_gin, which measured fastest for
            # one-user searches (docs/benchmarks/search.md); a plain GIN where btree_gin is
            # not installed (the embedded PostgreSQL). The trigram index on titles for "did
            # you mean" is made the same way, on (owner_id, title), by migration 0011.
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(type__in=EntryType.values), name="entry_type_known"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="entry_status_known"),
        ]
        triggers: ClassVar = [
            # Derived columns, and secrets re-sealed by key rotation, are not a change a person made.
            touch_updated_at(exclude=["search_vector", "keywords", "content_encrypted"]),
            pgtrigger.Trigger(
                name="refresh_search",
                operation=pgtrigger.Insert
                | pgtrigger.UpdateOf("title", "content", "fields", "type", "category_id", "owner_id", "search_vector"),
                when=pgtrigger.Before,
                func="""
                    NEW.search_vector := entries_search_document(
                        NEW.id, NEW.owner_id, NEW.title, NEW.content, NEW.type, NEW.fields, NEW.category_id
                    );
                    NEW.keywords := entries_keywords(NEW.search_vector);
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_managed_by(self, user: Any) -> bool:
        """Whether USER may archive, trash, restore and share this entry: its owner, or a
        grantee with a live admin share (the one rule for the pages, the services and sharing)."""
        return self.owner_id == user.id or Entry.objects.managed_by(user).filter(id=self.id).exists()


class DataKey(UUIDModel):
    """A user's 256-bit data key, stored only wrapped by a key-encryption key.

    The newest key that is not retired encrypts new secrets; older ones stay until no
    ciphertext names them (`manage.py rotate_keys --data-keys` moves everything over).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_keys")
    wrapped_key = models.BinaryField()
    kek_provider = models.CharField(max_length=16)
    kek_id = models.CharField(max_length=2048)
    kek_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["user", "-created_at"], name="datakey_user_recent")]


class EntryTag(UUIDModel):
    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="entry_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="entry_tags")

    class Meta:
        constraints: ClassVar = [models.UniqueConstraint("entry", "tag", name="entrytag_unique")]
        indexes: ClassVar = [models.Index(fields=["tag"], name="entrytag_tag")]
        triggers: ClassVar = [
            pgtrigger.Trigger(
                name="count_tag_added",
                operation=pgtrigger.Insert,
                when=pgtrigger.After,
                func="""
                    UPDATE entries_tag SET usage_count = usage_count + 1 WHERE id = NEW.tag_id;
                    UPDATE entries_entry SET search_vector = NULL WHERE id = NEW.entry_id;
                    RETURN NULL;
                """,
            ),
            pgtrigger.Trigger(
                name="count_tag_removed",
                operation=pgtrigger.Delete,
                when=pgtrigger.After,
                func="""
                    UPDATE entries_tag SET usage_count = usage_count - 1 WHERE id = OLD.tag_id;
                    UPDATE entries_entry SET search_vector = NULL WHERE id = OLD.entry_id;
                    RETURN NULL;
                """,
            ),
            pgtrigger.Trigger(
                name="count_tag_moved",
                operation=pgtrigger.UpdateOf("tag_id"),
                when=pgtrigger.After,
                condition=pgtrigger.Q(old__tag_id__df=pgtrigger.F("new__tag_id")),
                func="""
                    UPDATE entries_tag SET usage_count = usage_count - 1 WHERE id = OLD.tag_id;
                    UPDATE entries_tag SET usage_count = usage_count + 1 WHERE id = NEW.tag_id;
                    UPDATE entries_entry SET search_vector = NULL WHERE id = NEW.entry_id;
                    RETURN NULL;
                """,
            ),
        ]


class EntryVersion(UUIDModel):
    """The state of an entry before an update: history, restore, and the sync merge base."""

    entry = models.ForeignKey(Entry, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    actor_id = models.UUIDField(null=True, blank=True)  # who made the change that replaced it
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-version",)
        constraints: ClassVar = [models.UniqueConstraint("entry", "version", name="entryversion_unique")]


class ChangeOp(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    ARCHIVE = "archive"
    TRASH = "trash"
    RESTORE = "restore"
    DELETE = "delete"
    # In a grantee's feed only: the entry was shared with them (or the share changed), or
    # it no longer is (revoked or expired: a tombstone for their devices).
    SHARE = "share"
    UNSHARE = "unshare"


class Change(UUIDModel):
    """The per-user change feed: one row per change a user's devices must hear about.

    `seq` comes from `User.change_seq`, incremented under the user's row lock in the same
    transaction as the change, so each user's feed has no gaps and is in commit order.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="changes")
    seq = models.BigIntegerField()
    entry_id = models.UUIDField()  # not a foreign key: the feed outlives deleted entries
    operation = models.CharField(max_length=16, choices=ChangeOp.choices)
    entry_version = models.PositiveIntegerField(null=True, blank=True)
    origin_device = models.UUIDField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("user", "seq")
        constraints: ClassVar = [
            models.UniqueConstraint("user", "seq", name="change_unique_seq"),
        ]
        indexes: ClassVar = [
            models.Index(fields=["user", "seq"], name="change_unpublished", condition=Q(published_at__isnull=True)),
        ]


# Attachments have their own module (entries/attachments/); importing it here registers the model.
from entries.attachments.models import Attachment  # noqa: E402, F401
