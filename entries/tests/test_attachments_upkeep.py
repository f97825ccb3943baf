"""Thumbnails, integrity checks, orphan sweeps, deletion and concurrent quota, on both backends."""

from __future__ import annotations

import io
import os
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from entries import services as entry_services
from entries.attachments import services, tasks
from entries.attachments.models import Attachment, Integrity, ThumbnailStatus
from entries.attachments.storage import storage_for, thumbnail_key
from entries.tests.attachment_files import exists, fetch, pdf, png, sha256, stored, upload
from personalpod import metrics

pytestmark = pytest.mark.django_db

TEXT = b"A file worth keeping.\n" * 10


def attach(api: APIClient, entry_id: str, data: bytes, name: str) -> Attachment:
    response = upload(api, entry_id, data, name)
    assert response.status_code == 201, response.content
    return Attachment.objects.get(id=response.json()["id"])


def overwrite(attachment: Attachment, data: bytes) -> None:
    """Change the stored bytes behind the application's back (bit rot, a bad restore)."""
    store: Any = storage_for(attachment.backend)
    if attachment.backend == "s3":
        store.connection.meta.client.put_object(Bucket=store.bucket_name, Key=attachment.file, Body=data)
    else:
        with open(store.path(attachment.file), "wb") as file:
            file.write(data)


def test_an_image_gets_a_small_webp_thumbnail(api: APIClient, make_entry: Any, storage_backend: str) -> None:
    entry = make_entry()
    attachment = attach(api, entry["id"], png(1600, 900), "view.png")
    assert attachment.thumbnail_status == ThumbnailStatus.PENDING
    assert attachment.metadata == {"width": 1600, "height": 900}  # read from the header at upload
    assert tasks.make_thumbnail_task.apply(args=[str(attachment.id)]).get() == ThumbnailStatus.READY
    attachment.refresh_from_db()
    assert attachment.thumbnail == thumbnail_key(attachment.owner_id, attachment.id)
    with Image.open(io.BytesIO(stored(attachment, thumbnail=True))) as thumb:
        assert thumb.format == "WEBP"
        assert thumb.size == (320, 180)
    body = api.get(f"/api/v1/entries/{entry['id']}/attachments/{attachment.id}/").json()
    assert body["thumbnail"]
    data, headers = fetch(api.get(body["thumbnail"])["Location"])
    assert headers["content-type"] == "image/webp"
    assert data == stored(attachment, thumbnail=True)
    # Running again (a duplicate delivery) changes nothing.
    assert tasks.make_thumbnail_task.apply(args=[str(attachment.id)]).get() == "gone"


def test_a_pdf_gets_its_page_count(api: APIClient, make_entry: Any, storage_backend: str) -> None:
    attachment = attach(api, make_entry()["id"], pdf(pages=4), "scan.pdf")
    assert tasks.make_thumbnail_task.apply(args=[str(attachment.id)]).get() == ThumbnailStatus.NONE
    attachment.refresh_from_db()
    assert attachment.metadata["pages"] == 4
    assert attachment.thumbnail == ""


def test_a_file_without_a_preview_is_not_queued(api: APIClient, make_entry: Any) -> None:
    attachment = attach(api, make_entry()["id"], TEXT, "plain.txt")
    assert attachment.thumbnail_status == ThumbnailStatus.NONE


def test_a_storage_failure_is_retried_with_backoff_then_recorded_as_failed(
    api: APIClient, make_entry: Any, settings: Any, storage_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.ATTACHMENT_THUMBNAIL_RETRIES = 3
    attachment = attach(api, make_entry()["id"], png(), "lost.png")
    storage_for(attachment.backend).delete(attachment.file)  # the read fails every time
    delays: list[int] = []
    monkeypatch.setattr(tasks, "retry_delay", lambda retries: delays.append(retries) or 0)
    from personalpod.celery import app

    # In-process, each retry runs at once (a worker would wait the countdown); the last gives up.
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
    assert tasks.make_thumbnail_task.apply(args=[str(attachment.id)]).get() == ThumbnailStatus.FAILED
    assert delays == [0, 1, 2]  # three retries, each later than the last, then given up
    attachment.refresh_from_db()
    assert attachment.thumbnail_status == ThumbnailStatus.FAILED
    assert "could not read the stored file" in attachment.metadata["thumbnail_error"]


def test_backoff_grows_exponentially(settings: Any) -> None:
    settings.ATTACHMENT_THUMBNAIL_BACKOFF_SECONDS = 10
    waits = [tasks.retry_delay(n) for n in range(4)]
    assert [round(w / (10 * 2**n), 2) >= 0.75 and w <= 10 * 2**n * 1.25 for n, w in enumerate(waits)] == [True] * 4


def test_an_undecodable_image_fails_at_once(api: APIClient, make_entry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = png()[:40] + b"\x00" * 400  # a PNG header and then nothing decodable
    attachment = attach(api, make_entry()["id"], broken, "broken.png")
    assert attachment.content_type == "image/png"
    monkeypatch.setattr(tasks, "retry_delay", lambda retries: pytest.fail("retried a file no retry can fix"))
    assert tasks.make_thumbnail_task.apply(args=[str(attachment.id)]).get() == ThumbnailStatus.FAILED


def test_the_thumbnailer_keeps_the_decompression_bomb_guard(api: APIClient, make_entry: Any, settings: Any) -> None:
    attachment = attach(api, make_entry()["id"], png(1000, 1000), "big.png")
    settings.ATTACHMENT_MAX_IMAGE_PIXELS = 999_999  # lowered after the upload: the task re-checks
    assert tasks.make_thumbnail_task.apply(args=[str(attachment.id)]).get() == ThumbnailStatus.FAILED
    attachment.refresh_from_db()
    assert "ImageTooLarge" in attachment.metadata["thumbnail_error"]
    assert attachment.thumbnail == ""


@pytest.mark.django_db(transaction=True)
def test_the_thumbnail_appears_after_the_real_celery_worker_runs(
    celery_worker: Any, alice: User, storage_backend: str
) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    entry = api.post("/api/v1/entries/", {"type": "note", "title": "Trip"}, format="json").json()
    body = upload(api, entry["id"], png(640, 480), "trip.png").json()
    assert body["thumbnail"] is None
    deadline = time.monotonic() + 60
    while Attachment.objects.get(id=body["id"]).thumbnail_status == ThumbnailStatus.PENDING:
        assert time.monotonic() < deadline, "the worker made no thumbnail within a minute"
        time.sleep(0.2)
    attachment = Attachment.objects.get(id=body["id"])
    assert attachment.thumbnail_status == ThumbnailStatus.READY, attachment.metadata
    with Image.open(io.BytesIO(stored(attachment, thumbnail=True))) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (320, 240))
    assert api.get(f"/api/v1/entries/{entry['id']}/attachments/{body['id']}/").json()["thumbnail"]


def test_the_integrity_check_flags_changed_and_missing_files(
    api: APIClient, make_entry: Any, storage_backend: str, django_user_model: Any
) -> None:
    entry = make_entry()
    good, changed, missing = (attach(api, entry["id"], TEXT + bytes([n]), f"{n}.txt") for n in range(3))
    overwrite(changed, b"not what was uploaded")
    storage_for(missing.backend).delete(missing.file)
    before = metrics.counters()
    assert services.verify_sample(10) == {"ok": 1, "mismatch": 1, "missing": 1}
    assert Attachment.objects.get(id=good.id).integrity == Integrity.OK
    assert Attachment.objects.get(id=changed.id).integrity == Integrity.MISMATCH
    assert Attachment.objects.get(id=missing.id).integrity == Integrity.MISSING
    mismatches = 'personalpod_attachment_integrity_total{outcome="mismatch"}'
    assert metrics.counters()[mismatches] == before.get(mismatches, 0) + 1
    scraped = Client().get("/metrics").content.decode()
    assert mismatches in scraped
    assert 'personalpod_attachments_flagged{integrity="mismatch"} 1' in scraped
    assert 'personalpod_attachments_flagged{integrity="missing"} 1' in scraped
    staff = django_user_model.objects.create_user(email="staff@example.com", username="staff", password="x" * 12)
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    admin = Client()
    admin.force_login(staff)
    page = admin.get("/admin/entries/attachment/", {"integrity__exact": "mismatch"}).content.decode()
    assert "1.txt" in page
    assert "0.txt" not in page
    detail = admin.get(f"/admin/entries/attachment/{changed.id}/change/").content.decode()
    assert changed.sha256 in detail
    assert changed.file not in detail  # the support console never links to the file


def test_the_integrity_check_samples_the_least_recently_checked(api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    for n in range(2):
        attach(api, entry["id"], TEXT + bytes([n]), f"{n}.txt")
    services.verify_sample(1)
    services.verify_sample(1)
    checked = Attachment.objects.filter(integrity_checked_at__isnull=False).count()
    assert checked == 2  # the second run took the file the first did not


def test_orphan_cleanup_removes_unreferenced_files_and_keeps_referenced_ones(
    api: APIClient, alice: User, make_entry: Any, storage_backend: str
) -> None:
    entry = make_entry()
    kept = attach(api, entry["id"], png(), "kept.png")
    tasks.make_thumbnail_task.apply(args=[str(kept.id)])
    kept.refresh_from_db()
    store = storage_for(kept.backend)
    orphan = store.save(f"users/{alice.id}/attachments/0190d6a4-0000-7000-8000-000000000001/original", io.BytesIO(b"x"))
    assert services.remove_orphan_files() == 0  # younger than a day: perhaps an upload in flight
    assert store.exists(orphan)
    # Files other tests stored and whose rows rolled back are orphans too: at least ours goes.
    assert services.remove_orphan_files(now=timezone.now() + timedelta(days=2)) >= 1
    assert not store.exists(orphan)
    assert exists(kept)
    assert exists(kept, kept.thumbnail)
    if storage_backend == "filesystem":
        assert not os.path.exists(os.path.dirname(store.path(orphan)))  # its empty folder went too


def test_deleting_an_entry_forever_removes_its_files_after_commit(
    api: APIClient, alice: User, make_entry: Any, storage_backend: str, django_capture_on_commit_callbacks: Any
) -> None:
    entry = make_entry()
    attachment = attach(api, entry["id"], TEXT, "will-go.txt")
    with pytest.raises(entry_services.VersionConflict):  # rolled back: nothing removed
        entry_services.delete_entry_forever(actor=alice, entry_id=entry["id"], expected_version=1)
    assert exists(attachment)
    with django_capture_on_commit_callbacks(execute=False) as pending:
        entry_services.delete_entry_forever(actor=alice, entry_id=entry["id"])
    assert exists(attachment)
    for callback in pending:
        callback()
    assert not exists(attachment)
    assert not Attachment.objects.filter(id=attachment.id).exists()


def test_a_failure_after_storing_removes_the_stored_file(
    alice: User, make_entry: Any, storage_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = make_entry()
    saved: list[str] = []
    store = storage_for(storage_backend)
    original_save = store.save
    monkeypatch.setattr(store, "save", lambda *args, **kw: saved.append(original_save(*args, **kw)) or saved[-1])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the change feed is down")

    monkeypatch.setattr(services, "_new_version", broken)
    with pytest.raises(RuntimeError):
        services.add_attachment(actor=alice, entry_id=entry["id"], file=io.BytesIO(TEXT), name="doomed.txt")
    assert len(saved) == 1
    assert not store.exists(saved[0])
    assert not Attachment.objects.exists()


def test_the_service_hashes_files_that_did_not_come_through_an_upload(
    alice: User, make_entry: Any, storage_backend: str
) -> None:
    attachment = services.add_attachment(
        actor=alice, entry_id=make_entry()["id"], file=io.BytesIO(TEXT), name="import.txt", expected_sha256=sha256(TEXT)
    )
    assert (attachment.size, attachment.sha256) == (len(TEXT), sha256(TEXT))
    assert stored(attachment) == TEXT


@pytest.mark.django_db(transaction=True)
def test_quota_holds_under_two_concurrent_uploads(alice: User, settings: Any, storage_backend: str) -> None:
    settings.STORAGE_QUOTA_BYTES = 1500
    api = APIClient()
    api.force_authenticate(alice)
    entry = api.post("/api/v1/entries/", {"type": "note", "title": "Race"}, format="json").json()
    start = threading.Barrier(2)
    codes: list[int] = []

    def send(byte: bytes) -> None:
        client = APIClient()
        client.force_authenticate(alice)
        start.wait()
        try:
            codes.append(upload(client, entry["id"], byte * 1000, "half.txt").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(byte,)) for byte in (b"a", b"b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(codes) == [201, 413]
    assert Attachment.objects.filter(owner=alice).count() == 1
    from entries.tests.test_attachments_api import stored_objects

    assert len(stored_objects(alice)) == 1  # the refused upload left nothing behind


@pytest.mark.django_db(transaction=True)
def test_a_thumbnail_finished_while_its_entry_is_deleted_forever_leaves_no_file(
    alice: User, storage_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    entry = api.post("/api/v1/entries/", {"type": "document", "title": "Going"}, format="json").json()
    attachment = attach(api, entry["id"], png(), "photo.png")
    assert attachment.thumbnail_status == ThumbnailStatus.PENDING
    from entries.attachments import storage

    worker: list[threading.Thread] = []
    real_remove_after_commit = storage.remove_after_commit

    def thumbnail_in_between(pairs: Any) -> None:
        # The delete has read which files to remove and not yet deleted the rows: the
        # thumbnail task finishes now, in another connection.
        def work() -> None:
            try:
                services.make_thumbnail(attachment.id)
            finally:
                connection.close()

        worker.append(threading.Thread(target=work))
        worker[0].start()
        worker[0].join(timeout=1)  # it waits for the delete's lock (without the lock it is done)
        real_remove_after_commit(pairs)

    monkeypatch.setattr(storage, "remove_after_commit", thumbnail_in_between)
    entry_services.delete_entry_forever(actor=alice, entry_id=entry["id"])
    worker[0].join(timeout=30)
    key = thumbnail_key(alice.id, attachment.id)
    assert not exists(attachment, key)
    assert not exists(attachment)
