"""Exports: a person's whole vault as a ZIP (formats/personalpod.py describes it), built by a
Celery task, optionally encrypted with their passphrase, downloaded through a signed link
that works for EXPORT_LINK_HOURS, logged, and purged after that."""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.activity import log_activity
from accounts.models import Action, ActivityLog, User
from entries.attachments.storage import storage_for, upload_backend
from entries.crypto import envelope
from entries.models import Category, Entry, Tag
from personalpod.celery import enqueue
from personalpod.http import ClientInfo
from portability import crypto
from portability.formats.personalpod import FORMAT, VERSION, json_value
from portability.models import Export
from sharing.models import Share

logger = logging.getLogger(__name__)
LINK_SALT = "portability.export.download"
PROGRESS_EVERY = 25


IN_PROGRESS = (Export.Status.PENDING, Export.Status.RUNNING)


def stale_before() -> Any:
    """An export still in progress from before this has lost its worker (past the task's time limit)."""
    return timezone.now() - timedelta(seconds=settings.PORTABILITY_TIME_LIMIT_SECONDS + 600)


class ExportInProgress(Exception):
    """The person already has an export being made."""


class LinkExpired(Exception):
    """The download link is not valid, or the export has expired."""


def _context(export_id: Any) -> str:
    return f"export:{export_id}"


def clean_passphrase(passphrase: str | None) -> str | None:
    if passphrase is None or passphrase == "":
        return None
    if len(passphrase) < settings.EXPORT_PASSPHRASE_MIN_LENGTH:
        raise ValidationError(
            {"passphrase": [f"At least {settings.EXPORT_PASSPHRASE_MIN_LENGTH} characters (a few words work well)."]}
        )
    if len(passphrase) > 1024:
        raise ValidationError({"passphrase": ["At most 1024 characters."]})
    return passphrase


def start_export(
    *,
    owner: User,
    actor: User,
    passphrase: str | None = None,
    request_reference: str = "",
    client: ClientInfo | None = None,
) -> Export:
    """Queue an export of OWNER's vault. ACTOR is the owner, or a staff member acting on the
    owner's written request (REQUEST_REFERENCE says which); either way it is logged."""
    passphrase = clean_passphrase(passphrase)
    if actor != owner and not request_reference.strip():
        raise ValidationError({"request_reference": ["Say which written request this export answers."]})
    with transaction.atomic():
        # One at a time per person: the owner's row serialises two requests.
        User.objects.select_for_update(no_key=True).filter(id=owner.id).first()
        if Export.objects.filter(owner=owner, status__in=IN_PROGRESS, created_at__gt=stale_before()).exists():
            raise ExportInProgress
        export = Export.objects.create(
            owner=owner, requested_by=actor, request_reference=request_reference.strip()[:200],
            is_encrypted=passphrase is not None,
        )  # fmt: skip
        if passphrase is not None:
            key, wrapped = crypto.new_wrapped_key(_context(export.id))
            export.passphrase_sealed = {"key": wrapped, **crypto.seal_text(key, _context(export.id), passphrase)}
            export.save(update_fields=["passphrase_sealed"])
        log_activity(
            action=Action.EXPORT, actor=actor, owner=owner, target_type="export", target_id=export.id, client=client,
            metadata={"stage": "requested", "encrypted": export.is_encrypted, "by_staff": actor != owner,
                      **({"request_reference": export.request_reference} if export.request_reference else {})},
        )  # fmt: skip
        transaction.on_commit(lambda: enqueue("portability.tasks.run_export_task", str(export.id)))
    return export


def _progress(export: Export, done: int) -> None:
    Export.objects.filter(id=export.id).update(progress_done=done)


def run_export(export_id: Any) -> None:
    """Build the export's file (safe to run again: a rerun starts over)."""
    export = Export.objects.select_related("owner").filter(id=export_id).first()
    if export is None or export.status not in (Export.Status.PENDING, Export.Status.RUNNING):
        return
    total = Entry.objects.filter(owner=export.owner).count()
    Export.objects.filter(id=export.id).update(
        status=Export.Status.RUNNING, started_at=timezone.now(), progress_total=total, progress_done=0
    )
    try:
        _build(export)
    except Exception as failure:
        logger.exception("export %s failed", export.id)
        Export.objects.filter(id=export.id).update(
            status=Export.Status.FAILED,
            error=f"The export could not be made ({type(failure).__name__}); it was logged.",
            finished_at=timezone.now(), passphrase_sealed=None,
        )  # fmt: skip


def _build(export: Export) -> None:
    owner = export.owner
    stamp = timezone.now()
    with tempfile.TemporaryDirectory(prefix="personalpod-export-") as scratch:
        archive = Path(scratch) / "export.zip"
        counts = write_archive(owner, archive, lambda done: _progress(export, done))
        final, file_name = archive, f"personalpod-export-{stamp:%Y-%m-%d}.zip"
        if export.passphrase_sealed:
            record = export.passphrase_sealed
            key = crypto.open_wrapped_key(_context(export.id), record["key"])
            passphrase = crypto.open_text(key, _context(export.id), record)
            final, file_name = Path(scratch) / "export.zip.ppenc", file_name + ".ppenc"
            with archive.open("rb") as source, final.open("wb") as target:
                crypto.encrypt_with_passphrase(source, target, passphrase)
        digest = _sha256(final)
        backend = upload_backend()
        with final.open("rb") as handle:
            stored = storage_for(backend).save(f"exports/{owner.id}/{export.id}/{file_name}", File(handle))
    finished = timezone.now()
    updated = Export.objects.filter(id=export.id, status=Export.Status.RUNNING).update(
        status=Export.Status.READY, backend=backend, file=stored, file_name=file_name, size=final_size(stored, backend),
        sha256=digest, counts=counts, progress_done=counts["entries"], finished_at=finished,
        expires_at=finished + timedelta(hours=settings.EXPORT_LINK_HOURS), passphrase_sealed=None,
    )  # fmt: skip
    if not updated:  # deleted or failed meanwhile: do not leave the file behind
        storage_for(backend).delete(stored)
        return
    log_activity(
        action=Action.EXPORT, actor=export.requested_by_id, owner=owner, target_type="export", target_id=export.id,
        metadata={"stage": "ready", "counts": counts, "encrypted": export.is_encrypted},
    )  # fmt: skip


def final_size(name: str, backend: str) -> int:
    return int(storage_for(backend).size(name))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


class _Writer:
    """Files into the ZIP, each one's SHA-256 kept for the manifest."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.files: dict[str, str] = {}

    def json(self, name: str, data: Any) -> None:
        payload = json.dumps(data, ensure_ascii=False, indent=2, default=json_value).encode()
        self.archive.writestr(name, payload)
        self.files[name] = hashlib.sha256(payload).hexdigest()

    def json_lines(self, name: str, rows: Iterable[Any]) -> int:
        """A JSON array written row by row (the activity log may be long); returns the row count."""
        digest, count = hashlib.sha256(), 0
        with self.archive.open(name, "w", force_zip64=True) as target:

            def write(text: str) -> None:
                data = text.encode()
                target.write(data)
                digest.update(data)

            for row in rows:
                write(("[\n  " if count == 0 else ",\n  ") + json.dumps(row, ensure_ascii=False, default=json_value))
                count += 1
            write("[]\n" if count == 0 else "\n]\n")
        self.files[name] = digest.hexdigest()
        return count

    def copy(self, name: str, source: IO[bytes]) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        with self.archive.open(name, "w", force_zip64=True) as target:
            while chunk := source.read(1024 * 1024):
                target.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        self.files[name] = digest.hexdigest()
        return digest.hexdigest(), size


def _category_paths(owner: User) -> dict[Any, list[str]]:
    rows = {row.id: row for row in Category.objects.filter(owner=owner)}
    paths: dict[Any, list[str]] = {}

    def path(category_id: Any) -> list[str]:
        if category_id not in paths:
            row = rows[category_id]
            paths[category_id] = [*(path(row.parent_id) if row.parent_id in rows else []), row.name]
        return paths[category_id]

    for category_id in rows:
        path(category_id)
    return paths


def _entry_data(entry: Entry, paths: dict[Any, list[str]], counts: dict[str, int]) -> dict[str, Any]:
    content, fields = entry.content, dict(entry.fields)
    unreadable = False
    if entry.content_encrypted:
        try:
            secrets = envelope.unseal(entry.id, entry.owner_id, entry.content_encrypted)
            content, fields = envelope.join(entry.type, entry.content, entry.fields, secrets)
        except envelope.DecryptionFailed as failure:
            logger.error("export: the secrets of entry %s do not decrypt: %s", entry.id, failure)
            counts["unreadable_secrets"] += 1
            unreadable = True
    return {
        "id": str(entry.id), "type": entry.type, "title": entry.title, "content": content, "fields": fields,
        "status": entry.status, "is_sensitive": entry.is_sensitive,
        "category": (
            {"id": str(entry.category_id), "path": paths.get(entry.category_id, [])} if entry.category_id else None
        ),
        "tags": sorted((tag.name for tag in entry.tags.all()), key=str.lower),
        "expires_at": entry.expires_at, "trashed_at": entry.trashed_at, "version": entry.version,
        "created_at": entry.created_at, "updated_at": entry.updated_at,
        **({"secrets_unreadable": True} if unreadable else {}),
    }  # fmt: skip


def write_archive(owner: User, path: Path, progress: Any) -> dict[str, int]:
    """Write OWNER's whole vault to PATH as a ZIP; return what it holds."""
    counts = {"entries": 0, "attachments": 0, "attachment_bytes": 0, "unreadable_secrets": 0,
              "attachments_changed_since_upload": 0}  # fmt: skip
    paths = _category_paths(owner)
    entries = (
        Entry.objects.filter(owner=owner)
        .select_related("category")
        .prefetch_related("tags", "attachments")
        .order_by("created_at", "id")
    )
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        writer = _Writer(archive)
        index = []
        for entry in entries.iterator(chunk_size=200):
            data = _entry_data(entry, paths, counts)
            data["attachments"] = []
            for attachment in entry.attachments.all():
                member = f"attachments/{attachment.id}/{attachment.name}"
                with storage_for(attachment.backend).open(attachment.file, "rb") as stored:
                    sha256, size = writer.copy(member, stored)
                if sha256 != attachment.sha256:  # the stored file changed: say so, keep what is there
                    counts["attachments_changed_since_upload"] += 1
                data["attachments"].append({
                    "id": str(attachment.id), "name": attachment.name, "content_type": attachment.content_type,
                    "size": size, "sha256": sha256, "path": member,
                    **({"sha256_at_upload": attachment.sha256} if sha256 != attachment.sha256 else {}),
                })  # fmt: skip
                counts["attachments"] += 1
                counts["attachment_bytes"] += size
            name = f"entries/{entry.id}.json"
            writer.json(name, data)
            index.append({"id": data["id"], "type": entry.type, "title": entry.title, "status": entry.status,
                          "file": name, "updated_at": entry.updated_at})  # fmt: skip
            counts["entries"] += 1
            if counts["entries"] % PROGRESS_EVERY == 0:
                progress(counts["entries"])
        writer.json("index.json", index)
        writer.json("categories.json", [
            {"id": str(category.id), "name": category.name, "path": paths[category.id], "color": category.color,
             "icon": category.icon, "is_system": category.is_system}
            for category in Category.objects.filter(owner=owner).order_by("depth", "name")
        ])  # fmt: skip
        writer.json("tags.json", [
            {"name": tag.name, "slug": tag.slug, "color": tag.color, "usage_count": tag.usage_count}
            for tag in Tag.objects.filter(owner=owner).order_by("name")
        ])  # fmt: skip
        counts["shares"] = writer.json_lines("shares.json", _shares(owner))
        counts["activity"] = writer.json_lines("activity.json", _activity(owner))
        counts["categories"] = len(paths)
        manifest = {
            "format": FORMAT, "version": VERSION, "exported_at": timezone.now(),
            "user": {"id": str(owner.id), "email": owner.email, "username": owner.username},
            "counts": counts, "files": writer.files,
        }  # fmt: skip
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=json_value))
    return counts


def _shares(owner: User) -> Iterable[dict[str, Any]]:
    """The shares the person made: never a link's token or passphrase, only what identifies it."""
    shares = (
        Share.objects.filter(Q(owner=owner) | Q(created_by=owner))
        .select_related("entry", "grantee")
        .order_by("created_at", "id")
    )
    for share in shares.iterator(chunk_size=500):
        yield {
            "id": str(share.id), "entry": str(share.entry_id), "entry_title": share.entry.title,
            "grantee": share.grantee.email if share.grantee else None,
            "link": None if share.grantee_id else {"token_prefix": share.token_prefix,
                                                   "has_passphrase": bool(share.passphrase_hash)},
            "permission": share.permission, "expires_at": share.expires_at,
            "max_access_count": share.max_access_count, "access_count": share.access_count,
            "last_accessed_at": share.last_accessed_at, "revoked_at": share.revoked_at,
            "created_at": share.created_at,
        }  # fmt: skip


def _activity(owner: User) -> Iterable[dict[str, Any]]:
    rows = ActivityLog.objects.filter(owner_id=owner.id).order_by("created_at", "id")
    for row in rows.iterator(chunk_size=1000):
        yield {
            "id": str(row.id), "created_at": row.created_at, "action": row.action,
            "actor_id": str(row.actor_id) if row.actor_id else None, "target_type": row.target_type,
            "target_id": row.target_id, "ip": row.ip, "user_agent": row.user_agent, "metadata": row.metadata,
        }  # fmt: skip


def download_url(export: Export) -> str:
    token = signing.dumps(str(export.id), salt=LINK_SALT)
    return reverse("export-download", kwargs={"export_id": export.id}) + f"?token={token}"


def open_download(*, reader: User, export_id: Any, token: str, client: ClientInfo | None) -> Export:
    """The reader's ready export for a valid link (Export.DoesNotExist for another's); logged."""
    export = Export.objects.get(id=export_id, owner=reader)
    try:
        signed = signing.loads(token, salt=LINK_SALT, max_age=timedelta(hours=settings.EXPORT_LINK_HOURS))
    except signing.BadSignature:
        raise LinkExpired("This download link is not valid or has expired.") from None
    if signed != str(export.id):
        raise LinkExpired("This download link is not valid or has expired.")
    if export.status != Export.Status.READY or export.expires_at is None or export.expires_at <= timezone.now():
        raise LinkExpired("This export has expired; start a new one.")
    Export.objects.filter(id=export.id).update(download_count=F("download_count") + 1)
    log_activity(
        action=Action.EXPORT, actor=reader, target_type="export", target_id=export.id, client=client,
        metadata={"stage": "downloaded"},
    )  # fmt: skip
    return export


def delete_export(*, actor: User, export_id: Any) -> None:
    export = Export.objects.get(id=export_id, owner=actor)
    _purge(export)


def _purge(export: Export) -> None:
    if export.file:
        storage_for(export.backend).delete(export.file)
    # A running export that is deleted finds its status changed, and removes its own file.
    Export.objects.filter(id=export.id).update(
        status=Export.Status.FAILED if export.status == Export.Status.FAILED else Export.Status.EXPIRED,
        file="", purged_at=timezone.now(), passphrase_sealed=None,
    )  # fmt: skip


def purge_expired_exports(now: Any = None) -> int:
    """Delete the files of exports past their link's expiry (and of failed ones); fail those
    whose worker was lost (a rerun would start over, and could do so for ever)."""
    now = now or timezone.now()
    Export.objects.filter(status__in=IN_PROGRESS, created_at__lte=stale_before()).update(
        status=Export.Status.FAILED, error="The export did not finish in time; start a new one.",
        finished_at=now, passphrase_sealed=None,
    )  # fmt: skip
    due = Export.objects.filter(purged_at__isnull=True).filter(
        Q(expires_at__lte=now) | Q(status=Export.Status.FAILED, created_at__lte=now - timedelta(hours=1))
    )
    purged = 0
    for export in due.iterator():
        _purge(export)
        purged += 1
    return purged
