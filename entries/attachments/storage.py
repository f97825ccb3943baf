"""Where attachment files live, and the short-lived links that hand them out.

Two backends through Django's storage API (django-storages for S3): "s3" (private objects,
server-side encryption, presigned links) and "filesystem" (signed Django links).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.urls import reverse
from django.utils.http import content_disposition_header

from entries.attachments.models import Backend

logger = logging.getLogger(__name__)
PREFIX = "users/"
LINK_SALT = "entries.attachments.link"
CHUNK = 1024 * 1024


def upload_backend() -> Backend:
    """The backend new files go to (settings.FILE_STORAGE)."""
    return Backend(settings.FILE_STORAGE)


def storage_for(backend: str) -> Storage:
    return storages[backend]


def configured_backends() -> list[Backend]:
    return [backend for backend in Backend if backend.value in settings.STORAGES]


def file_key(owner_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    return f"{PREFIX}{owner_id}/attachments/{attachment_id}/original"


def thumbnail_key(owner_id: uuid.UUID, attachment_id: uuid.UUID) -> str:
    return f"{PREFIX}{owner_id}/attachments/{attachment_id}/thumbnail.webp"


def remove(backend: str, names: Iterable[str]) -> int:
    """Delete stored objects; what fails is logged and left to the orphan sweep. Returns how many went."""
    storage = storage_for(backend)
    removed = 0
    for name in names:
        try:
            storage.delete(name)
        except Exception:
            logger.warning("could not delete a stored file (%s); the orphan sweep will", backend, exc_info=True)
        else:
            removed += 1
    return removed


def remove_after_commit(files: Iterable[tuple[str, str]]) -> None:
    """Delete these (backend, name) objects once the current transaction commits (never if it rolls back)."""
    by_backend: dict[str, list[str]] = {}
    for backend, name in files:
        if name:
            by_backend.setdefault(backend, []).append(name)
    for backend, names in by_backend.items():
        transaction.on_commit(lambda backend=backend, names=names: remove(backend, names))  # type: ignore[misc]


def remove_files_of(entries: Any) -> None:
    """For the services that delete entries for good: their attachments' files go after the commit.

    The rows are locked: a thumbnail finished meanwhile is then either in what is read here,
    or its task finds the row gone and removes the file itself (services._finish)."""
    from entries.attachments.models import Attachment

    rows = Attachment.objects.select_for_update().filter(entry__in=entries).values_list("backend", "file", "thumbnail")
    remove_after_commit([pair for backend, name, thumb in rows for pair in ((backend, name), (backend, thumb))])


def stored_files(backend: str, older_than: datetime) -> Iterator[str]:
    """Names of the attachment objects in BACKEND last written before OLDER_THAN."""
    storage = storage_for(backend)
    if backend == Backend.S3:
        client = storage.connection.meta.client  # type: ignore[attr-defined]
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=storage.bucket_name, Prefix=PREFIX)  # type: ignore[attr-defined]
        for page in pages:
            for item in page.get("Contents", ()):
                if "/attachments/" in item["Key"] and item["LastModified"] < older_than:
                    yield item["Key"]
        return
    root = Path(storage.location)  # type: ignore[attr-defined]
    for path in (root / PREFIX).glob("*/attachments/*/*"):
        if path.is_file() and datetime.fromtimestamp(path.stat().st_mtime, UTC) < older_than:
            yield path.relative_to(root).as_posix()


def prune_empty_folders(backend: str) -> None:
    """The filesystem keeps a folder per attachment; drop the empty ones (S3 has no folders)."""
    if backend != Backend.FILESYSTEM:
        return
    root = Path(storage_for(backend).location)  # type: ignore[attr-defined]
    for folder in sorted((root / PREFIX).glob("*/attachments/*"), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def link(
    *, backend: str, name: str, attachment_id: uuid.UUID, kind: str, filename: str, content_type: str, inline: bool
) -> tuple[str, datetime]:
    """A short-lived URL that serves the stored object with this name, type and disposition.

    S3: a presigned GET whose response headers are fixed by the signature. Filesystem: a
    signed path to our own file view. Either works for anyone holding it until it expires.
    """
    seconds = settings.ATTACHMENT_LINK_SECONDS
    expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
    disposition = content_disposition_header(not inline, filename) or "attachment"
    if backend == Backend.S3:
        s3: Any = storage_for(backend)  # S3Storage.url takes the presigning parameters
        url = s3.url(
            name,
            parameters={"ResponseContentDisposition": disposition, "ResponseContentType": content_type},
            expire=seconds,
        )
        return str(url), expires_at
    token = signing.dumps({"a": str(attachment_id), "k": kind, "i": inline}, salt=LINK_SALT, compress=True)
    return reverse("attachment-file", kwargs={"token": token}), expires_at


def read_link(token: str) -> dict[str, Any]:
    """The claims of a filesystem link (signing.BadSignature, including expiry, otherwise)."""
    claims: dict[str, Any] = signing.loads(token, salt=LINK_SALT, max_age=settings.ATTACHMENT_LINK_SECONDS)
    return claims
