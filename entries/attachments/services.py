"""The attachments write path: add, delete, hand out links; the thumbnail, integrity and
orphan upkeep that Celery runs.

Adding or deleting an attachment is a change to its entry: one transaction takes the
owner's lock first (entries.feed.lock_owner), checks the quota under it, writes the row,
a new entry version with its history row, the change feed and the activity log. A file
stored during a transaction that then fails is deleted again; a file whose row is deleted
is removed only after the deletion commits.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from accounts.activity import log_activity
from accounts.models import Action, User
from entries.attachments import sniff, storage
from entries.attachments.models import Attachment, Integrity, ThumbnailStatus
from entries.models import ChangeOp, Entry
from entries.services.common import keep_versions, record
from entries.services.entries import locked_entry
from personalpod import metrics
from personalpod.celery import enqueue
from personalpod.http import ClientInfo
from personalpod.models import uuid7

logger = logging.getLogger(__name__)
THUMBNAIL_TASK = "entries.attachments.tasks.make_thumbnail_task"


class Rejected(Exception):
    """An upload refused before anything was stored: CODE, a message, the FIELD it is about."""

    def __init__(self, code: str, message: str, *, field: str = "file", status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.status = code, message, field, status


class StorageUnavailable(Exception):
    """Reading or writing the stored file failed: worth trying again later."""


def _measure(file: IO[bytes]) -> tuple[int, str, bytes]:
    """Size, SHA-256 and first bytes: taken while the upload streamed in, or read now."""
    if all(hasattr(file, name) for name in ("sha256", "head", "size")):
        return int(file.size), str(file.sha256), bytes(file.head)  # type: ignore[attr-defined]
    digest, size, head = hashlib.sha256(), 0, b""
    file.seek(0)
    while chunk := file.read(storage.CHUNK):
        digest.update(chunk)
        size += len(chunk)
        head = head or chunk[: sniff.HEAD_BYTES]
    return size, digest.hexdigest(), head


def counted(rejected: Rejected) -> Rejected:
    metrics.incr("personalpod_attachment_rejections_total", reason=rejected.code)
    return rejected


def too_large() -> Rejected:
    """The refusal of a file over ATTACHMENT_MAX_BYTES (also when the upload stopped on the way in)."""
    limit = settings.ATTACHMENT_MAX_BYTES
    return Rejected("too_large", f"The file is larger than the {_megabytes(limit)} limit.", status=413)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def _new_version(entry: Entry, actor: User, client: ClientInfo | None, attachment: Attachment, event: str) -> None:
    keep_versions([entry], actor)
    entry.version += 1
    entry.save(update_fields=["version", "updated_at"])
    record(
        [entry],
        op=ChangeOp.UPDATE,
        action=Action.UPDATE,
        actor=actor,
        client=client,
        metadata={"changed": ["attachments"], event: str(attachment.id), "size": attachment.size},
    )


def add_attachment(
    *,
    actor: User,
    entry_id: Any,
    file: IO[bytes],
    name: str,
    expected_sha256: str | None = None,
    client: ClientInfo | None = None,
) -> Attachment:
    """Store FILE on the entry. Every check (name, emptiness, size, checksum, image bomb,
    quota) runs before the file is stored; a Rejected names the field and stores nothing."""
    try:
        facts = _check(file, name, expected_sha256)
        attachment = _store(actor, entry_id, file, facts, client)
    except Rejected as rejected:
        raise counted(rejected) from None
    metrics.incr("personalpod_attachment_events_total", event="upload", backend=attachment.backend)
    return attachment


def _check(file: IO[bytes], name: str, expected_sha256: str | None) -> dict[str, Any]:
    if sniff.has_path(name):
        raise Rejected(
            "invalid_name", "The file name must not contain a path ('/', '\\' or '..'): send the name alone."
        )
    clean = sniff.clean_name(name)
    if not clean:
        raise Rejected("invalid_name", "The file needs a name with at least one letter or digit.")
    size, sha256, head = _measure(file)
    if size == 0:
        raise Rejected("empty_file", "The file is empty.")
    if size > settings.ATTACHMENT_MAX_BYTES:
        raise too_large()
    if expected_sha256 and expected_sha256.lower() != sha256:
        raise Rejected("checksum_mismatch", "The file's SHA-256 is not the one sent; nothing was stored.",
                       field="sha256")  # fmt: skip
    content_type = sniff.sniff_content_type(head, clean)
    metadata: dict[str, Any] = {}
    if content_type in sniff.IMAGE_TYPES:
        file.seek(0)
        try:
            metadata.update(sniff.image_facts(file, settings.ATTACHMENT_MAX_IMAGE_PIXELS))
        except sniff.ImageTooLarge:
            raise Rejected("image_too_large", "The image has too many pixels to open safely.") from None
    return {"name": clean, "size": size, "sha256": sha256, "content_type": content_type, "metadata": metadata}


def _store(actor: User, entry_id: Any, file: IO[bytes], facts: dict[str, Any], client: ClientInfo | None) -> Attachment:
    backend = storage.upload_backend()
    files = storage.storage_for(backend)
    stored = ""
    try:
        with transaction.atomic(durable=True):
            entry = locked_entry(actor, entry_id)  # 404 unseen, 403 read-only
            # Under the owner's lock: two uploads at once cannot both fit in the last space.
            used = Attachment.objects.filter(owner_id=entry.owner_id).aggregate(total=Sum("size"))["total"] or 0
            if used + facts["size"] > settings.STORAGE_QUOTA_BYTES:
                left = max(0, settings.STORAGE_QUOTA_BYTES - used)
                raise Rejected("quota_exceeded", f"Not enough storage left ({_megabytes(left)} free).", status=413)
            attachment_id = uuid7()
            content = File(file, name=facts["name"])
            content.content_type = facts["content_type"]  # type: ignore[attr-defined] # the S3 object's type
            file.seek(0)
            stored = files.save(storage.file_key(entry.owner_id, attachment_id), content)
            if files.size(stored) != facts["size"]:
                raise StorageUnavailable("the stored object's size differs from the upload's")
            preview = ThumbnailStatus.PENDING if _has_preview(facts["content_type"]) else ThumbnailStatus.NONE
            attachment = Attachment.objects.create(
                id=attachment_id, entry=entry, owner_id=entry.owner_id, uploaded_by=actor, backend=backend,
                file=stored, thumbnail_status=preview, **facts,
            )  # fmt: skip
            _new_version(entry, actor, client, attachment, "attachment_added")
            if preview == ThumbnailStatus.PENDING:
                transaction.on_commit(lambda: enqueue(THUMBNAIL_TASK, str(attachment_id)))
    except BaseException:
        if stored:  # rolled back: the row never existed, so neither may its file
            storage.remove(backend, [stored])
        raise
    return attachment


def _has_preview(content_type: str) -> bool:
    return content_type in sniff.IMAGE_TYPES or content_type == "application/pdf"


def delete_attachment(*, actor: User, entry_id: Any, attachment_id: Any, client: ClientInfo | None = None) -> None:
    with transaction.atomic():
        entry = locked_entry(actor, entry_id)  # 404 unseen, 403 read-only
        attachment = Attachment.objects.select_for_update().get(entry=entry, id=attachment_id)
        storage.remove_after_commit([(attachment.backend, attachment.file), (attachment.backend, attachment.thumbnail)])
        attachment.delete()
        _new_version(entry, actor, client, attachment, "attachment_deleted")
    metrics.incr("personalpod_attachment_events_total", event="delete", backend=attachment.backend)


def download_link(
    *, reader: User, attachment: Attachment, thumbnail: bool = False, inline: bool = False, client: ClientInfo | None
) -> tuple[str, datetime]:
    """A short-lived link to ATTACHMENT (already fetched through the reader's selector).

    Only images and PDFs are ever inline. Each download of the file itself is logged.
    """
    if thumbnail:
        if attachment.thumbnail_status != ThumbnailStatus.READY:
            raise Attachment.DoesNotExist("no thumbnail")
        return storage.link(
            backend=attachment.backend, name=attachment.thumbnail, attachment_id=attachment.id, kind="thumbnail",
            filename=f"{attachment.name}.webp", content_type="image/webp", inline=True,
        )  # fmt: skip
    inline = inline and attachment.content_type in sniff.INLINE_TYPES
    log_activity(
        action=Action.VIEW, actor=reader, owner=attachment.owner_id, target_type="attachment",
        target_id=attachment.id, client=client,
        metadata={"entry": str(attachment.entry_id), "download": "inline" if inline else "attachment"},
    )  # fmt: skip
    metrics.incr("personalpod_attachment_events_total", event="download", backend=attachment.backend)
    return storage.link(
        backend=attachment.backend, name=attachment.file, attachment_id=attachment.id, kind="file",
        filename=attachment.name, content_type=attachment.content_type, inline=inline,
    )  # fmt: skip


# --- Upkeep run by Celery ---


def make_thumbnail(attachment_id: Any) -> str:
    """Make a pending attachment's WebP thumbnail (images) or count its pages (PDFs).

    Returns the new thumbnail status. A file that cannot be decoded fails for good; a
    storage error raises StorageUnavailable so the task tries again later.
    """
    attachment = Attachment.objects.filter(id=attachment_id, thumbnail_status=ThumbnailStatus.PENDING).first()
    if attachment is None:
        return "gone"  # deleted meanwhile, or done by an earlier run
    files = storage.storage_for(attachment.backend)
    try:
        with files.open(attachment.file, "rb") as stored:
            data = io.BytesIO(stored.read())
    except Exception as error:
        raise StorageUnavailable(f"could not read the stored file: {type(error).__name__}") from error
    metadata = dict(attachment.metadata)
    try:
        if attachment.content_type == "application/pdf":
            metadata["pages"] = _page_count(data)
            return _finish(attachment, ThumbnailStatus.NONE, metadata)
        thumbnail, (width, height) = _thumbnail(data)
    except Exception as error:  # noqa: BLE001 - undecodable: no retry can help
        logger.info("no preview for attachment %s: %s", attachment.id, type(error).__name__)
        return thumbnail_failed(attachment.id, f"{type(error).__name__}: the file could not be decoded")
    metadata.update(width=width, height=height)
    key = storage.thumbnail_key(attachment.owner_id, attachment.id)
    content = ContentFile(thumbnail, name="thumbnail.webp")
    content.content_type = "image/webp"  # type: ignore[attr-defined]
    try:
        files.delete(key)  # a retry after a lost update: replace, never add a second copy
        name = files.save(key, content)
    except Exception as error:
        raise StorageUnavailable(f"could not store the thumbnail: {type(error).__name__}") from error
    return _finish(attachment, ThumbnailStatus.READY, metadata, thumbnail=name)


def _finish(attachment: Attachment, status: str, metadata: dict[str, Any], thumbnail: str = "") -> str:
    updated = Attachment.objects.filter(id=attachment.id, thumbnail_status=ThumbnailStatus.PENDING).update(
        thumbnail_status=status, thumbnail=thumbnail, metadata=metadata, updated_at=timezone.now()
    )
    if not updated and thumbnail:  # the attachment went while we worked
        storage.remove(attachment.backend, [thumbnail])
    metrics.incr("personalpod_attachment_thumbnails_total", outcome=status)
    return status


def thumbnail_failed(attachment_id: Any, reason: str) -> str:
    attachment = Attachment.objects.filter(id=attachment_id).first()
    if attachment is None:
        return "gone"
    return _finish(attachment, ThumbnailStatus.FAILED, {**attachment.metadata, "thumbnail_error": reason[:200]})


def _thumbnail(data: IO[bytes]) -> tuple[bytes, tuple[int, int]]:
    from PIL import ImageOps

    with sniff.open_image(data, settings.ATTACHMENT_MAX_IMAGE_PIXELS) as image:
        size = image.size
        edge = settings.ATTACHMENT_THUMBNAIL_PIXELS
        image.draft("RGB", (edge, edge))  # JPEG: decode at a reduced scale
        small = ImageOps.exif_transpose(image)
        small = small.convert("RGBA" if small.has_transparency_data else "RGB")
        small.thumbnail((edge, edge))
        out = io.BytesIO()
        small.save(out, format="WEBP", quality=80)
    return out.getvalue(), size


def _page_count(data: IO[bytes]) -> int:
    from pypdf import PdfReader

    return len(PdfReader(data, strict=False).pages)


def verify_sample(count: int | None = None) -> dict[str, int]:
    """Re-read the COUNT attachments checked longest ago, re-hash them and record the outcome."""
    count = count or settings.ATTACHMENT_INTEGRITY_SAMPLE
    sample = Attachment.objects.order_by(F("integrity_checked_at").asc(nulls_first=True), "id")[:count]
    outcomes: dict[str, int] = {}
    for attachment in sample:
        outcome = _verify(attachment)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        metrics.incr("personalpod_attachment_integrity_total", outcome=outcome)
        if outcome == "error":
            continue  # the storage did not answer: nothing learnt about the file
        Attachment.objects.filter(id=attachment.id).update(integrity=outcome, integrity_checked_at=timezone.now())
        if outcome != Integrity.OK:
            logger.error("attachment %s failed its integrity check: %s", attachment.id, outcome)
    return outcomes


def _verify(attachment: Attachment) -> str:
    digest = hashlib.sha256()
    try:
        with storage.storage_for(attachment.backend).open(attachment.file, "rb") as stored:
            for chunk in stored.chunks(storage.CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return Integrity.MISSING
    except Exception:
        logger.warning("integrity check of attachment %s could not read it", attachment.id, exc_info=True)
        return "error"
    return Integrity.OK if digest.hexdigest() == attachment.sha256 else Integrity.MISMATCH


def remove_orphan_files(now: datetime | None = None) -> int:
    """Delete stored files that no attachment names and that are older than the minimum age
    (a file whose upload is still in its transaction is younger)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.ATTACHMENT_ORPHAN_MIN_AGE_HOURS)
    removed = 0
    for backend in storage.configured_backends():
        for batch in _batches(storage.stored_files(backend, cutoff), 500):
            rows = Attachment.objects.filter(backend=backend)
            referenced = set(rows.filter(file__in=batch).values_list("file", flat=True))
            referenced |= set(rows.filter(thumbnail__in=batch).values_list("thumbnail", flat=True))
            orphans = [name for name in batch if name not in referenced]
            removed += storage.remove(backend, orphans)
        storage.prune_empty_folders(backend)
    if removed:
        logger.info("removed %d stored files no attachment refers to", removed)
        metrics.incr("personalpod_attachment_orphans_removed_total", amount=removed)
    return removed


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
