"""The attachments read path: every read takes the reader, through Entry.objects.visible_to."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.shortcuts import get_object_or_404

from accounts.models import User
from entries.attachments.models import Attachment, Integrity
from entries.models import Entry
from personalpod.cache import cached
from personalpod.metrics import Gauge


def attachments_for_reader(*, reader: User, entry_id: Any) -> QuerySet[Attachment]:
    """The entry's attachments, oldest first (Http404 when the reader cannot see the entry)."""
    entry = get_object_or_404(Entry.objects.visible_to(reader).only("id"), id=entry_id)
    return Attachment.objects.filter(entry=entry).order_by("created_at", "id")


def attachment_for_reader(*, reader: User, entry_id: Any, attachment_id: Any) -> Attachment:
    return get_object_or_404(
        Attachment.objects.filter(entry__in=Entry.objects.visible_to(reader).values("id")),
        entry_id=entry_id,
        id=attachment_id,
    )


def _usage(owner: User) -> dict[str, Any]:
    """What the owner's attachments add up to, by sniffed content type (one query)."""
    rows = (
        Attachment.objects.filter(owner=owner)
        .values("content_type")
        .annotate(file_count=Count("id"), total_bytes=Sum("size"))
        .order_by("-total_bytes", "content_type")
    )
    by_type = [
        {"content_type": row["content_type"], "file_count": row["file_count"], "total_bytes": row["total_bytes"]}
        for row in rows
    ]
    return {
        "file_count": sum(row["file_count"] for row in by_type),
        "total_bytes": sum(row["total_bytes"] for row in by_type),
        "by_content_type": by_type,
    }


def storage_stats(owner: User) -> dict[str, Any]:
    """The owner's file statistics and quota (seed 004's getUserFileStats).

    The sums come through the versioned cache: every upload and deletion bumps the owner's
    change_seq, so a cached value is never older than the attachments it counts. The
    limits are settings and are added fresh.
    """
    usage: dict[str, Any] = cached(owner, "storage_stats", "", lambda: _usage(owner))
    quota = settings.STORAGE_QUOTA_BYTES
    return {
        **usage,
        "quota_bytes": quota,
        "quota_left_bytes": max(0, quota - usage["total_bytes"]),
        "max_file_bytes": settings.ATTACHMENT_MAX_BYTES,
    }


def flagged_file_gauges() -> Iterable[Gauge]:
    """For /metrics: stored files the integrity check found changed or gone (a partial index)."""
    flagged = dict(
        Attachment.objects.filter(integrity__in=[Integrity.MISMATCH, Integrity.MISSING])
        .values_list("integrity")
        .annotate(count=Count("id"))
        .order_by()
    )
    yield Gauge(
        "personalpod_attachments_flagged",
        "Stored files whose last integrity check found them changed (mismatch) or gone (missing).",
        [({"integrity": state}, flagged.get(state, 0)) for state in (Integrity.MISMATCH, Integrity.MISSING)],
    )
