"""The sharing read path. A share is seen by the entry's owner, by its administrators (admin
grantees) and by its own grantee; anyone else is told it does not exist."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, OuterRef, Q, QuerySet, Subquery

from accounts.models import User
from entries.models import Entry, EqualsAny, Status
from entries.selectors import entries_for_reader
from sharing.models import Permission, Share


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _administered_entry_ids(user: User) -> ArraySubquery:
    """The ids of entries USER administers through a live admin share, as one SQL array."""
    return ArraySubquery(
        Share.objects.live().filter(grantee=user, permission=Permission.ADMIN).order_by().values("entry_id")
    )


def visible_entry(reader: User, entry_id: Any) -> Entry:
    """The entry, if READER may see it (Entry.DoesNotExist otherwise, a bad id included)."""
    try:
        return Entry.objects.visible_to(reader).get(id=entry_id)
    except ValidationError:
        raise Entry.DoesNotExist from None


def managed_entry(reader: User, entry_id: Any) -> Entry:
    """The entry, if READER may manage its shares: 404 if they cannot see it, 403 if they may only use it."""
    entry = visible_entry(reader, entry_id)
    if not entry.is_managed_by(reader):
        raise PermissionDenied("Only the entry's owner and its administrators manage its shares.")
    return entry


def shares_for_entry(*, reader: User, entry_id: Any) -> QuerySet[Share]:
    entry = managed_entry(reader, entry_id)
    return Share.objects.filter(entry=entry).select_related("entry", "grantee", "created_by")


def shares_for_manager(
    *, reader: User, entry_id: Any = None, state: str | None = None, kind: str | None = None
) -> QuerySet[Share]:
    """The shares READER manages: on the entries they own or administer."""
    shares = Share.objects.filter(Q(owner=reader) | EqualsAny(F("entry_id"), _administered_entry_ids(reader)))
    if entry_id is not None:
        shares = shares.filter(entry_id=entry_id)
    if state:
        shares = shares.in_state(state)
    if kind == "user":
        shares = shares.with_users()
    elif kind == "link":
        shares = shares.links()
    return shares.select_related("entry", "grantee", "created_by")


def share_for_actor(*, actor: User, share_id: Any) -> Share:
    """A share ACTOR may see: on an entry they own or administer, or their own (as grantee).
    Another share of an entry they can see is a 403; anything else does not exist (404)."""
    try:
        return (
            Share.objects.filter(
                Q(owner=actor) | Q(grantee=actor) | EqualsAny(F("entry_id"), _administered_entry_ids(actor))
            )
            .select_related("entry", "grantee", "created_by")
            .get(id=share_id)
        )
    except ValidationError:
        raise Share.DoesNotExist from None
    except Share.DoesNotExist:
        if Share.objects.filter(id=share_id, entry__in=Entry.objects.visible_to(actor)).exists():
            raise PermissionDenied("Only the entry's owner and its administrators manage its shares.") from None
        raise


def _my_live_shares(reader: User) -> QuerySet[Share]:
    return Share.objects.live().filter(grantee=reader)


def shared_with_me(*, reader: User, **filters: Any) -> QuerySet[Entry]:
    """Entries shared with READER by a live share, filtered like their own entry list, each
    with `permission`, `share_id` and `share_expires_at`, and its owner."""
    mine = _my_live_shares(reader).filter(entry=OuterRef("pk"))
    return (
        entries_for_reader(reader=reader, **filters)
        .filter(EqualsAny(F("id"), ArraySubquery(_my_live_shares(reader).order_by().values("entry_id"))))
        .annotate(
            permission=Subquery(mine.values("permission")[:1]),
            share_id=Subquery(mine.values("id")[:1]),
            share_expires_at=Subquery(mine.values("expires_at")[:1]),
        )
        .select_related("owner")
    )


def shared_entry_for_reader(*, reader: User, entry_id: Any) -> Entry:
    """One entry shared with READER, annotated as in shared_with_me (404 if it is not)."""
    try:
        return shared_with_me(reader=reader, statuses=Status.values).get(id=entry_id)
    except ValidationError:
        raise Entry.DoesNotExist from None


def openable_link(token: str) -> Share | None:
    """The link with this token, if it can be opened now: not revoked, not expired, not
    exhausted, its entry not in the trash and its owner's account active. Looked up by the
    token's hash alone."""
    if not isinstance(token, str) or not 8 <= len(token) <= 200:
        return None
    return (
        Share.objects.openable()
        .links()
        .filter(token_hash=hash_token(token), owner__is_active=True)
        .exclude(entry__status=Status.DELETED)
        .select_related("entry", "owner")
        .first()
    )


def grantees_of(entries: Sequence[Entry]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """For each entry, the users it is shared with now (entries.feed.recipient_hooks)."""
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    rows = Share.objects.live().with_users().filter(entry_id__in=[entry.id for entry in entries])
    for entry_id, grantee_id in rows.values_list("entry_id", "grantee_id"):
        found[entry_id].append(grantee_id)
    return found


def peers_of(owner_id: uuid.UUID) -> list[uuid.UUID]:
    """Everyone the owner shares an entry with now (entries.feed.peer_hooks)."""
    return list(
        Share.objects.live()
        .with_users()
        .filter(owner_id=owner_id)
        .order_by()
        .values_list("grantee_id", flat=True)
        .distinct()
    )
