"""Imports, staged: upload (checked at once, kept encrypted), read by a worker into a preview
(what would be created, duplicates by content hash), confirmed, then created through the
entries services; undone within IMPORT_UNDO_DAYS, through the services too (portability.undo).

A file that cannot be imported (malformed, truncated, unknown, unsafe) imports nothing: the
upload is refused, or the import fails before anything is created; and if creating fails
part-way, what was created is removed again.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from accounts.activity import log_activity
from accounts.models import Action, User
from entries import services as entries
from entries.attachments.services import add_attachment
from entries.attachments.storage import storage_for, upload_backend
from entries.models import Entry, EntryType, Status, Tag
from entries.services.common import slugs_for
from personalpod.celery import enqueue
from personalpod.http import ClientInfo
from portability import crypto
from portability.archive import SafeZip
from portability.errors import ImportFailed
from portability.formats import Format, Parsed, detect, zip_format
from portability.models import Import, ImportedObject
from portability.reading import (
    Checked,
    build_preview,
    checked_items,
    file_context,
    opening_failed,
    read_file,
    staged_plaintext,
)
from portability.undo import remove_imported

logger = logging.getLogger(__name__)
PROGRESS_EVERY = 10
BUSY = (Import.Status.IMPORTING, Import.Status.UNDOING)


class ImportBusy(Exception):
    """Another import of the person's is being created or undone."""


def _fail(staged: Import, failure: ImportFailed) -> None:
    _remove_file(staged)
    Import.objects.filter(id=staged.id).update(
        status=Import.Status.FAILED, error_code=failure.code, error_message=failure.message[:2000],
        error_field=failure.field, finished_at=timezone.now(), file="", passphrase_sealed=None,
    )  # fmt: skip


def _remove_file(staged: Import) -> None:
    if staged.file:
        storage_for(staged.backend).delete(staged.file)


def _sniff(upload: IO[bytes], name: str, wanted: str | None, passphrase: str | None) -> str:
    """The upload's format, from its bytes; refused at once when unknown or unsafe."""
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    found = detect(head)
    if found == "zip":
        with tempfile.NamedTemporaryFile(prefix="personalpod-upload-") as copy:
            while chunk := upload.read(1024 * 1024):
                copy.write(chunk)
            copy.flush()
            upload.seek(0)
            archive = SafeZip(Path(copy.name))
            try:
                found = zip_format(archive.names())
            finally:
                archive.close()
    if found is None:
        names = ", ".join(label for _, label in Format.CHOICES)
        raise ImportFailed("unknown_format", f"PersonalPod cannot read this file. It imports: {names}.")
    if wanted and wanted != found:
        raise ImportFailed("wrong_format", f"This file is not a {wanted} file (it looks like {found}).", field="format")
    if crypto.is_encrypted(head):
        if not passphrase:
            raise ImportFailed("passphrase_required", "This export is encrypted: give its passphrase.",
                               field="passphrase")  # fmt: skip
        try:
            header = crypto.read_header(upload)
            # Every chunk, not only the first: a file cut short after a whole chunk is refused now too.
            for _ in crypto.decrypt_chunks(upload, crypto.passphrase_key(header, passphrase), header):
                pass
        except crypto.CannotOpen as failure:
            raise opening_failed(failure) from None
        finally:
            upload.seek(0)
    return found


def stage_import(
    *, owner: User, upload: IO[bytes], name: str, size: int, format: str | None = None,
    passphrase: str | None = None, client: ClientInfo | None = None,
) -> Import:  # fmt: skip
    """Check the upload, keep it encrypted, and queue it to be read into a preview."""
    if size == 0:
        raise ImportFailed("empty_file", "The file is empty.")
    if size > settings.IMPORT_MAX_BYTES:
        raise ImportFailed(
            "file_too_large", f"At most {settings.IMPORT_MAX_BYTES // 2**20} MB can be imported at once."
        )
    found = _sniff(upload, name, format, passphrase)
    digest = hashlib.sha256()
    while chunk := upload.read(1024 * 1024):
        digest.update(chunk)
    upload.seek(0)
    backend = upload_backend()
    staged = Import(owner=owner, format=found, original_name=name[:255], size=size, sha256=digest.hexdigest(),
                    backend=backend)  # fmt: skip
    key, staged.file_key = crypto.new_wrapped_key(file_context(staged.id))
    if passphrase:
        staged.passphrase_sealed = crypto.seal_text(key, file_context(staged.id), passphrase)
    with tempfile.TemporaryFile() as sealed:
        header, _ = crypto.new_header(passphrase=False)
        crypto.encrypt_stream(upload, sealed, key, header)
        sealed.seek(0)
        stored = File(sealed, name="upload.ppenc")
        staged.file = storage_for(backend).save(f"imports/{owner.id}/{staged.id}/upload.ppenc", stored)
    try:
        with transaction.atomic():
            staged.save(force_insert=True)
            log_activity(
                action=Action.IMPORT, actor=owner, target_type="import", target_id=staged.id, client=client,
                metadata={"stage": "uploaded", "format": found, "size": size},
            )  # fmt: skip
            transaction.on_commit(lambda: enqueue("portability.tasks.read_import_task", str(staged.id)))
    except BaseException:
        _remove_file(staged)
        raise
    return staged


def read_import(import_id: Any) -> None:
    """Read the staged file into its preview (the worker's half of an upload)."""
    staged = Import.objects.select_related("owner").filter(id=import_id, status=Import.Status.PARSING).first()
    if staged is None:
        return
    try:
        with staged_plaintext(staged) as path:
            parsed = read_file(path, staged.format)
            try:
                preview = build_preview(staged.owner, parsed)
            finally:
                parsed.close()
    except ImportFailed as failure:
        _fail(staged, failure)
        return
    except crypto.CannotOpen as failure:
        _fail(staged, ImportFailed("damaged_file", f"The staged file does not open: {failure}."))
        return
    except Exception:
        logger.exception("import %s could not be read", staged.id)
        _fail(staged, ImportFailed("unreadable", "The file could not be read (the error was logged)."))
        return
    total = preview["counts"]["entries"] + preview["counts"]["duplicates"]
    Import.objects.filter(id=staged.id, status=Import.Status.PARSING).update(
        status=Import.Status.READY, preview=preview, progress_total=total
    )


def confirm_import(*, actor: User, import_id: Any, skip_duplicates: bool = True) -> Import:
    with transaction.atomic():
        User.objects.select_for_update(no_key=True).filter(id=actor.id).first()  # one confirm at a time per person
        staged = Import.objects.select_for_update().get(id=import_id, owner=actor)
        if staged.status != Import.Status.READY:
            raise ValidationError(
                {"status": [f"Only an import whose preview is ready can be confirmed ({staged.status})."]}
            )
        if Import.objects.filter(owner=actor, status__in=BUSY).exists():
            raise ImportBusy  # two at once would each take the other's new tags for their own
        staged.status, staged.skip_duplicates, staged.confirmed_at = (
            Import.Status.IMPORTING,
            skip_duplicates,
            timezone.now(),
        )
        staged.save(update_fields=["status", "skip_duplicates", "confirmed_at"])
        transaction.on_commit(lambda: enqueue("portability.tasks.create_import_task", str(staged.id)))
    return staged


CANCELLABLE = (Import.Status.PARSING, Import.Status.READY, Import.Status.FAILED)
NOT_CANCELLABLE: dict[str, str] = {
    Import.Status.IMPORTING: "it is being imported; once it is done it can be undone",
    Import.Status.DONE: "it was imported: undo it instead",
    Import.Status.UNDOING: "it is being undone",
    Import.Status.UNDONE: "it was undone already",
}


def cancel_import(*, actor: User, import_id: Any) -> None:
    """Cancel an import that was not confirmed; cancelling it again changes nothing (a DELETE
    a client retries must not fail)."""
    with transaction.atomic():
        staged = Import.objects.select_for_update().get(id=import_id, owner=actor)  # a confirm waits for this
        if staged.status == Import.Status.CANCELLED:
            return
        if staged.status not in CANCELLABLE:
            reason = NOT_CANCELLABLE.get(staged.status, staged.status)
            raise ValidationError({"status": [f"Only an import that was not confirmed can be cancelled ({reason})."]})
        _remove_file(staged)
        Import.objects.filter(id=staged.id).update(status=Import.Status.CANCELLED, file="", passphrase_sealed=None)


# -- creating --------------------------------------------------------------------------------


def _progress(staged: Import, done: int) -> None:
    Import.objects.filter(id=staged.id).update(progress_done=done)


def _key(key: str) -> str:
    return key if len(key) <= 300 else hashlib.sha256(key.encode()).hexdigest()


def _remember(staged: Import, kind: str, object_id: Any, key: str) -> None:
    ImportedObject.objects.get_or_create(
        source=staged, kind=kind, source_key=_key(key), defaults={"object_id": object_id}
    )


def _categories(staged: Import, owner: User, parsed: Parsed, items: list[Checked]) -> dict[tuple[str, ...], Any]:
    """Make the categories the items go in (and the export's own), parents first."""
    from portability.reading import _category, existing_category_paths

    specs = {_category(spec.path): spec for spec in parsed.categories if _category(spec.path)}
    paths = {checked.category for checked in items if checked.category} | set(specs)
    known = existing_category_paths(owner)
    ids: dict[tuple[str, ...], Any] = {}
    every = {full[:depth] for full in paths for depth in range(1, len(full) + 1)}
    for path in sorted(every, key=len):
        lowered = tuple(name.lower() for name in path)
        if lowered in known:
            ids[path] = known[lowered]
            continue
        spec = specs.get(path)
        with transaction.atomic():
            category = entries.create_category(
                actor=owner, name=path[-1], parent=ids.get(path[:-1]),
                color=spec.color if spec else "", icon=spec.icon if spec else "",
            )  # fmt: skip
            _remember(staged, ImportedObject.Kind.CATEGORY, category.id, "category:" + "/".join(path))
        ids[path] = known[lowered] = category.id
    return ids


def _entry(staged: Import, owner: User, checked: Checked, category: Any) -> None:
    item, fields = checked.item, dict(checked.fields)
    # A done recurring task would spawn its next occurrence on creation: the file holds that
    # one already, so the recurrence is put back after.
    recurrence = fields.get("recurrence") if item.type == EntryType.TASK and fields.get("is_done") else None
    if recurrence:
        fields["recurrence"] = None
    with transaction.atomic():
        entry = entries.create_entry(
            actor=owner, type=item.type, title=checked.title, content=item.content, fields=fields,
            status=item.status if item.status in (Status.ACTIVE, Status.ARCHIVED, Status.DRAFT) else Status.ACTIVE,
            category=category, tags=checked.tags, expires_at=checked.expires_at, is_sensitive=item.is_sensitive,
        )  # fmt: skip
        _remember(staged, ImportedObject.Kind.ENTRY, entry.id, item.key)
        if recurrence:
            entries.update_entry(actor=owner, entry_id=entry.id, changes={"fields": {"recurrence": recurrence}})
        if item.status == Status.DELETED:
            entries.set_status(actor=owner, entry_id=entry.id, status=Status.DELETED)
        # The version the import leaves it at: a later one means the person changed it (an undo keeps it).
        version = _version_of(entry.id)
        _imported(staged, entry.id).update(version=version)
    for source in item.attachments:
        with tempfile.TemporaryFile() as copy, source.open() as stream:
            while chunk := stream.read(1024 * 1024):
                copy.write(chunk)
            copy.seek(0)
            add_attachment(actor=owner, entry_id=entry.id, file=copy, name=source.name, expected_sha256=source.sha256)
        # One version on for the attachment; more means an edit came in between, and stays marked.
        if _version_of(entry.id) == version + 1:
            version += 1
            _imported(staged, entry.id).update(version=version)


def _version_of(entry_id: Any) -> int:
    return int(Entry.objects.filter(id=entry_id).values_list("version", flat=True).get())


def _imported(staged: Import, entry_id: Any) -> Any:
    return ImportedObject.objects.filter(source=staged, kind=ImportedObject.Kind.ENTRY, object_id=entry_id)


def create_import(import_id: Any) -> None:
    """Create what the preview showed (the worker's half of a confirm); resumable."""
    staged = Import.objects.select_related("owner").filter(id=import_id, status=Import.Status.IMPORTING).first()
    if staged is None:
        return
    owner = staged.owner
    try:
        with staged_plaintext(staged) as path:
            parsed = read_file(path, staged.format)
            try:
                _create(staged, owner, parsed)
            finally:
                parsed.close()
    except Exception as failure:
        if not isinstance(failure, ImportFailed):
            logger.exception("import %s failed while creating; removing what it made", staged.id)
        try:
            _remember_new_tags(staged, owner)
            remove_imported(staged, owner, keep_edited=False)
        except Exception:
            logger.exception("import %s: removing what it made failed too", staged.id)
        reason = failure if isinstance(failure, ImportFailed) else ImportFailed(
            "import_failed", f"The import stopped ({type(failure).__name__}); nothing was kept. It was logged."
        )  # fmt: skip
        _fail(staged, reason)
        return
    _remember_new_tags(staged, owner)
    result = {kind: staged.created.filter(kind=kind).count() for kind in ImportedObject.Kind.values}
    _remove_file(staged)
    finished = timezone.now()
    Import.objects.filter(id=staged.id).update(
        status=Import.Status.DONE, result=result, finished_at=finished, file="", passphrase_sealed=None,
        undo_until=finished + timedelta(days=settings.IMPORT_UNDO_DAYS),
    )  # fmt: skip
    log_activity(
        action=Action.IMPORT, actor=owner, target_type="import", target_id=staged.id,
        metadata={"stage": "imported", "format": staged.format, "created": result},
    )  # fmt: skip


def _remember_new_tags(staged: Import, owner: User) -> None:
    """Tags come into being as entries name them: those made since the confirm are the
    import's (an undo removes only those that no entry carries any more)."""
    for tag_id in Tag.objects.filter(owner=owner, created_at__gte=staged.confirmed_at).values_list("id", flat=True):
        _remember(staged, ImportedObject.Kind.TAG, tag_id, f"tag:{tag_id}")


def _create(staged: Import, owner: User, parsed: Parsed) -> None:
    items = [checked for checked in checked_items(owner, parsed) if not checked.problem]
    if staged.skip_duplicates:
        items = [checked for checked in items if not checked.duplicate]
    categories = _categories(staged, owner, parsed, items)
    wanted_tags = {spec.name: spec for spec in parsed.tags}  # the export's tags, with their colours
    have = set(Tag.objects.filter(owner=owner, slug__in=set(slugs_for(list(wanted_tags)).values())).values_list(
        "slug", flat=True))  # fmt: skip
    for name, slug in slugs_for(list(wanted_tags)).items():
        if slug not in have:
            with transaction.atomic():
                entries.create_tag(actor=owner, name=name, color=wanted_tags[name].color)
            have.add(slug)
    done = set(staged.created.filter(kind=ImportedObject.Kind.ENTRY).values_list("source_key", flat=True))
    Import.objects.filter(id=staged.id).update(progress_total=len(items), progress_done=len(done))
    for count, checked in enumerate(items, start=1):
        if _key(checked.item.key) not in done:
            _entry(staged, owner, checked, categories.get(checked.category))
        if count % PROGRESS_EVERY == 0:
            _progress(staged, count)
    _progress(staged, len(items))


def resume_lost_imports(now: Any = None) -> int:
    """Imports whose worker was lost (past the task's time limit): reading fails; creating and
    undoing, which resume where they stopped, are queued again (creating for a day at most,
    then what it made is removed)."""
    now = now or timezone.now()
    lost = now - timedelta(seconds=settings.PORTABILITY_TIME_LIMIT_SECONDS + 600)
    for staged in Import.objects.filter(status=Import.Status.PARSING, created_at__lte=lost):
        _fail(staged, ImportFailed("unreadable", "The file was not read in time; upload it again."))
    resumed = 0
    for staged in Import.objects.filter(status__in=BUSY, confirmed_at__lte=lost).select_related("owner"):
        if staged.status == Import.Status.IMPORTING and staged.confirmed_at < now - timedelta(days=1):
            _remember_new_tags(staged, staged.owner)
            remove_imported(staged, staged.owner, keep_edited=False)
            _fail(staged, ImportFailed("import_failed", "The import did not finish; nothing was kept."))
            continue
        task = "create_import_task" if staged.status == Import.Status.IMPORTING else "undo_import_task"
        enqueue(f"portability.tasks.{task}", str(staged.id))
        resumed += 1
    return resumed


def purge_stale_imports(now: Any = None) -> int:
    """Remove staged files nobody confirmed within IMPORT_STAGED_HOURS."""
    now = now or timezone.now()
    stale = Import.objects.filter(
        status__in=[Import.Status.PARSING, Import.Status.READY],
        created_at__lte=now - timedelta(hours=settings.IMPORT_STAGED_HOURS),
    ).exclude(file="")
    purged = 0
    for staged in stale.iterator():
        _remove_file(staged)
        Import.objects.filter(id=staged.id).update(status=Import.Status.CANCELLED, file="", passphrase_sealed=None)
        purged += 1
    return purged
