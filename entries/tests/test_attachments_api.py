"""The attachments API against both storage backends: uploads, links, bad input, tenancy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from entries.attachments.models import Attachment
from entries.models import Change, Entry, EntryVersion
from entries.tests.attachment_files import (
    ELF,
    exists,
    fetch,
    pdf,
    png,
    png_bomb,
    raw_upload,
    sha256,
    stored,
    upload,
)
from personalpod import metrics

pytestmark = pytest.mark.django_db

TEXT = b"Meeting notes: the roof, the budget, the garden.\n" * 20


def nothing_stored(owner: User) -> bool:
    return not Attachment.objects.filter(owner=owner).exists() and not stored_objects(owner)


def stored_objects(owner: User) -> list[str]:
    from django.conf import settings

    from entries.attachments.storage import storage_for

    store = storage_for(settings.FILE_STORAGE)
    if settings.FILE_STORAGE == "s3":
        bucket: Any = store.bucket  # type: ignore[attr-defined]
        return [item.key for item in bucket.objects.filter(Prefix=f"users/{owner.id}/")]
    root = os.path.join(settings.MEDIA_ROOT, "users", str(owner.id))
    return [os.path.join(path, name) for path, _, names in os.walk(root) for name in names]


def test_upload_stores_the_file_as_sent(
    api: APIClient, alice: User, make_entry: Any, storage_backend: str, settings: Any
) -> None:
    entry = make_entry(type="document", title="Minutes")
    response = upload(api, entry["id"], TEXT, "minutes.txt", content_type="application/x-anything")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= {"id", "name", "content_type", "size", "sha256", "thumbnail", "url"}
    assert body["name"] == "minutes.txt"
    assert body["content_type"] == "text/plain"  # from the bytes, not the client's claim
    assert body["size"] == len(TEXT)
    assert body["sha256"] == sha256(TEXT)
    assert body["thumbnail"] is None
    attachment = Attachment.objects.get(id=body["id"])
    assert attachment.backend == storage_backend
    assert attachment.file.startswith(f"users/{alice.id}/attachments/{attachment.id}/")
    assert sha256(stored(attachment)) == sha256(TEXT)  # the stored object hashes as the upload did
    if storage_backend == "s3":
        store: Any = attachment_storage(attachment)
        head = store.connection.meta.client.head_object(Bucket=store.bucket_name, Key=attachment.file)
        assert head["ServerSideEncryption"] == "AES256"
        acl = store.connection.meta.client.get_object_acl(Bucket=store.bucket_name, Key=attachment.file)
        assert [grant["Permission"] for grant in acl["Grants"]] == ["FULL_CONTROL"]  # the owner only: private
        assert head["ContentType"] == "text/plain"


def attachment_storage(attachment: Attachment) -> Any:
    from entries.attachments.storage import storage_for

    return storage_for(attachment.backend)


def test_a_matching_client_checksum_is_accepted(api: APIClient, make_entry: Any, storage_backend: str) -> None:
    entry = make_entry()
    response = upload(api, entry["id"], TEXT, sha256=sha256(TEXT).upper())
    assert response.status_code == 201
    assert response.json()["sha256"] == sha256(TEXT)


def test_a_mismatched_checksum_stores_nothing(
    api: APIClient, alice: User, make_entry: Any, storage_backend: str
) -> None:
    entry = make_entry()
    response = upload(api, entry["id"], TEXT, sha256=sha256(b"something else"))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "checksum_mismatch"
    assert list(error["fields"]) == ["sha256"]
    assert nothing_stored(alice)
    assert Entry.objects.get(id=entry["id"]).version == 1


def test_a_malformed_checksum_is_a_400_naming_it(api: APIClient, make_entry: Any) -> None:
    response = upload(api, make_entry()["id"], TEXT, sha256="abc")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["sha256"]


def test_a_file_over_the_limit_is_a_413_and_stores_nothing(
    api: APIClient, alice: User, make_entry: Any, settings: Any, storage_backend: str
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 500
    entry = make_entry()
    for size in (501, 200_000):  # stopped as it streams in; refused from its length alone
        response = upload(api, entry["id"], b"x" * size)
        assert response.status_code == 413, size
        error = response.json()["error"]
        assert error["code"] == "too_large"
        assert list(error["fields"]) == ["file"]
    assert nothing_stored(alice)
    assert upload(api, entry["id"], b"x" * 500).status_code == 201


def test_over_quota_is_a_413_and_stores_nothing(
    api: APIClient, alice: User, make_entry: Any, settings: Any, storage_backend: str
) -> None:
    settings.STORAGE_QUOTA_BYTES = 1500
    entry = make_entry()
    assert upload(api, entry["id"], b"a" * 1000).status_code == 201
    response = upload(api, entry["id"], b"b" * 1000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "quota_exceeded"
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert Attachment.objects.filter(owner=alice).count() == 1
    assert len(stored_objects(alice)) == 1


def test_an_empty_file_is_a_400(api: APIClient, alice: User, make_entry: Any, storage_backend: str) -> None:
    response = upload(api, make_entry()["id"], b"", "empty.txt")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert nothing_stored(alice)


def test_no_file_or_two_files_is_a_400(api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    url = f"/api/v1/entries/{entry['id']}/attachments/"
    assert list(api.post(url, {"sha256": ""}, format="multipart").json()["error"]["fields"]) == ["file"]
    from django.core.files.uploadedfile import SimpleUploadedFile

    two = {"file": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")]}
    response = api.post(url, two, format="multipart")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert not Attachment.objects.exists()


def test_a_disguised_executable_is_stored_as_what_it_is_and_never_inline(
    api: APIClient, make_entry: Any, storage_backend: str
) -> None:
    entry = make_entry()
    response = upload(api, entry["id"], ELF, "holiday.jpg", content_type="image/jpeg")
    assert response.status_code == 201
    body = response.json()
    assert body["content_type"] == "application/x-executable"
    assert body["name"] == "holiday.jpg"
    link = api.get(body["url"], {"disposition": "inline"})
    assert link.status_code == 302
    data, headers = fetch(link["Location"])
    assert data == ELF
    assert headers["content-type"] == "application/x-executable"
    assert headers["content-disposition"].startswith("attachment;")


def test_a_decompression_bomb_is_a_400_and_stores_nothing(
    api: APIClient, alice: User, make_entry: Any, storage_backend: str
) -> None:
    response = upload(api, make_entry()["id"], png_bomb(), "small.png", content_type="image/png")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "image_too_large"
    assert list(response.json()["error"]["fields"]) == ["file"]
    assert nothing_stored(alice)


def test_a_path_traversal_name_is_a_400_and_stores_nothing(
    api: APIClient, alice: User, make_entry: Any, settings: Any, storage_backend: str
) -> None:
    entry = make_entry()
    for name in ("../../x", "..\\..\\windows\\y.txt", "/etc/passwd", "a/b.txt", "..", "../", "/", " .. "):
        refused = raw_upload(api, entry["id"], TEXT, name)
        assert refused.status_code == 400, name
        assert list(refused.json()["error"]["fields"]) == ["file"], refused.json()
    for hopeless in ("\x07", " . "):  # nothing printable or usable left
        refused = raw_upload(api, entry["id"], TEXT, hopeless)
        assert refused.status_code == 400, hopeless
        assert list(refused.json()["error"]["fields"]) == ["file"]
    assert nothing_stored(alice)
    assert not os.path.exists(os.path.join(settings.MEDIA_ROOT, "..", "..", "x"))


def test_control_characters_and_long_names_are_cleaned(api: APIClient, make_entry: Any) -> None:
    entry = make_entry()
    assert raw_upload(api, entry["id"], TEXT, "re\tport\x1f.txt").json()["name"] == "report.txt"
    long = upload(api, entry["id"], TEXT, "a" * 400 + ".txt").json()["name"]
    assert len(long) == 255
    assert long.endswith(".txt")


def test_upload_and_delete_are_entry_changes(api: APIClient, alice: User, make_entry: Any) -> None:
    entry = make_entry()
    seq = User.objects.get(id=alice.id).change_seq
    attachment = upload(api, entry["id"], TEXT).json()
    assert Entry.objects.get(id=entry["id"]).version == 2
    assert EntryVersion.objects.filter(entry_id=entry["id"], version=1).exists()
    change = Change.objects.get(user=alice, seq=seq + 1)
    assert (change.operation, change.entry_version, str(change.entry_id)) == ("update", 2, entry["id"])
    log = ActivityLog.objects.filter(owner_id=alice.id, action="update").latest("created_at")
    assert log.metadata["changed"] == ["attachments"]
    assert log.metadata["attachment_added"] == attachment["id"]
    assert api.get(f"/api/v1/entries/{entry['id']}/").json()["version"] == 2
    assert api.delete(f"/api/v1/entries/{entry['id']}/attachments/{attachment['id']}/").status_code == 204
    assert Entry.objects.get(id=entry["id"]).version == 3
    assert Change.objects.filter(user=alice, seq=seq + 2, entry_version=3).exists()


def test_delete_removes_the_stored_file_once_committed(
    api: APIClient, make_entry: Any, storage_backend: str, django_capture_on_commit_callbacks: Any
) -> None:
    entry = make_entry()
    attachment = Attachment.objects.get(id=upload(api, entry["id"], TEXT).json()["id"])
    with django_capture_on_commit_callbacks(execute=False) as pending:
        response = api.delete(f"/api/v1/entries/{entry['id']}/attachments/{attachment.id}/")
    assert response.status_code == 204
    assert exists(attachment)  # not before the commit
    for callback in pending:
        callback()
    assert not exists(attachment)
    assert not Attachment.objects.filter(id=attachment.id).exists()


def test_list_and_retrieve(
    api: APIClient, make_entry: Any, django_assert_max_num_queries: Any, storage_backend: str
) -> None:
    entry = make_entry()
    ids = [upload(api, entry["id"], TEXT + bytes([n]), f"{n}.txt").json()["id"] for n in range(3)]
    with django_assert_max_num_queries(3):
        listing = api.get(f"/api/v1/entries/{entry['id']}/attachments/")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == ids  # oldest first
    assert listing.json()["next"] is None
    with django_assert_max_num_queries(2):
        one = api.get(f"/api/v1/entries/{entry['id']}/attachments/{ids[1]}")
    assert one.json()["name"] == "1.txt"
    assert api.get(f"/api/v1/entries/{entry['id']}/attachments/?limit=2").json()["next"]


def test_the_download_link_serves_the_original_name_and_is_logged(
    api: APIClient, alice: User, make_entry: Any, storage_backend: str
) -> None:
    entry = make_entry()
    body = upload(api, entry["id"], pdf(), "Annual report 2025.pdf", content_type="application/pdf").json()
    assert body["content_type"] == "application/pdf"
    response = api.get(body["url"])
    assert response.status_code == 302
    assert response.json()["url"] == response["Location"]
    data, headers = fetch(response["Location"])
    assert data == pdf() or sha256(data) == body["sha256"]
    assert headers["content-disposition"] == 'attachment; filename="Annual report 2025.pdf"'
    assert headers["content-type"] == "application/pdf"
    inline = fetch(api.get(body["url"], {"disposition": "inline"})["Location"])[1]
    assert inline["content-disposition"].startswith("inline")
    downloads = ActivityLog.objects.filter(owner_id=alice.id, action="view", target_type="attachment")
    assert downloads.count() == 2
    assert downloads.first().metadata["entry"] == entry["id"]  # type: ignore[union-attr]


def test_another_users_attachment_is_not_found_and_its_link_not_theirs(
    api: APIClient, bob: User, make_entry: Any, storage_backend: str
) -> None:
    entry = make_entry()
    body = upload(api, entry["id"], TEXT).json()
    other = APIClient()
    other.force_authenticate(bob)
    base = f"/api/v1/entries/{entry['id']}/attachments"
    assert other.get(f"{base}/").status_code == 404
    assert upload(other, entry["id"], TEXT).status_code == 404
    for path in (f"{base}/{body['id']}/", f"{base}/{body['id']}/download", f"{base}/{body['id']}/thumbnail"):
        assert other.get(path).status_code == 404, path
    assert other.delete(f"{base}/{body['id']}/").status_code == 404
    assert other.get(body["url"]).status_code == 404  # the url in the JSON: no link for bob
    assert Attachment.objects.filter(id=body["id"]).exists()


def test_filesystem_links_are_signed_and_expire(api: APIClient, make_entry: Any, settings: Any) -> None:
    entry = make_entry()
    body = upload(api, entry["id"], TEXT).json()
    link = api.get(body["url"])["Location"]
    assert fetch(link)[0] == TEXT
    token = link.rsplit("/", 1)[1]
    tampered = link[: -len(token)] + token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert fetch(tampered)[1]["status"] == "404"
    settings.ATTACHMENT_LINK_SECONDS = 1
    time.sleep(2.1)
    assert fetch(link)[1]["status"] == "404"


def test_unauthenticated_is_a_401(make_entry: Any) -> None:
    entry = make_entry()
    anonymous = APIClient()
    assert anonymous.get(f"/api/v1/entries/{entry['id']}/attachments/").status_code == 401
    assert upload(anonymous, entry["id"], TEXT).status_code == 401
    assert anonymous.get("/api/v1/me/storage/").status_code == 401
    assert not Attachment.objects.exists()


def test_an_unknown_entry_is_a_404(api: APIClient) -> None:
    assert upload(api, "0190d6a4-0000-7000-8000-000000000000", TEXT).status_code == 404


@pytest.mark.django_db(transaction=True)  # the cache is bypassed inside an uncommitted write
def test_storage_statistics_by_type_with_quota_left(
    api: APIClient, alice: User, bob: User, make_entry: Any, settings: Any, django_assert_max_num_queries: Any
) -> None:
    settings.STORAGE_QUOTA_BYTES = 10_000_000
    entry = make_entry()
    image = png()
    upload(api, entry["id"], image, "a.png")
    upload(api, entry["id"], TEXT, "a.txt")
    upload(api, entry["id"], TEXT + b"!", "b.txt")
    expected_total = len(image) + 2 * len(TEXT) + 1
    stats = api.get("/api/v1/me/storage/").json()
    assert stats["file_count"] == 3
    assert stats["total_bytes"] == expected_total
    assert stats["quota_bytes"] == 10_000_000
    assert stats["quota_left_bytes"] == 10_000_000 - expected_total
    by_type = {row["content_type"]: row for row in stats["by_content_type"]}
    assert by_type["text/plain"] == {"content_type": "text/plain", "file_count": 2, "total_bytes": 2 * len(TEXT) + 1}
    assert by_type["image/png"]["file_count"] == 1
    with django_assert_max_num_queries(2):  # the user's change_seq and the session; the sums come from the cache
        assert api.get("/api/v1/me/storage/").json() == stats
    assert metrics.counters().get('personalpod_cache_total{cache_type="storage_stats",outcome="hit"}')
    other = APIClient()
    other.force_authenticate(bob)
    assert other.get("/api/v1/me/storage/").json()["file_count"] == 0
    upload(api, entry["id"], b"more", "c.txt")  # a new version: the cached sums are stale at once
    assert api.get("/api/v1/me/storage/").json()["file_count"] == 4


def test_a_bucket_turns_on_s3_with_encryption_and_private_objects() -> None:
    code = (
        "import django; from django.conf import settings; django.setup(); s = settings.STORAGES; "
        "print(settings.FILE_STORAGE, 's3' in s and s['default'] == s['s3'], "
        "'s3' in s and (s['s3']['OPTIONS']['default_acl'], s['s3']['OPTIONS']['object_parameters']))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "personalpod.settings.base", "AWS_STORAGE_BUCKET_NAME": "vault"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "s3 True ('private', {'ServerSideEncryption': 'AES256'})"
    del env["AWS_STORAGE_BUCKET_NAME"]
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "filesystem False False"


def test_grantees_read_through_shares_and_write_only_with_write_permission(
    api: APIClient, alice: User, bob: User, make_entry: Any
) -> None:
    from sharing.services import create_share

    reader_entry, writer_entry = make_entry(title="Read me"), make_entry(title="Edit me")
    create_share(actor=alice, entry_id=reader_entry["id"], grantee="bob", permission="read")
    create_share(actor=alice, entry_id=writer_entry["id"], grantee="bob", permission="write")
    body = upload(api, reader_entry["id"], TEXT).json()
    grantee = APIClient()
    grantee.force_authenticate(bob)
    assert grantee.get(f"/api/v1/entries/{reader_entry['id']}/attachments/").json()["results"][0]["id"] == body["id"]
    assert fetch(grantee.get(body["url"])["Location"])[0] == TEXT
    assert upload(grantee, reader_entry["id"], TEXT).status_code == 403
    assert grantee.delete(f"/api/v1/entries/{reader_entry['id']}/attachments/{body['id']}/").status_code == 403
    added = upload(grantee, writer_entry["id"], b"from bob")
    assert added.status_code == 201
    attachment = Attachment.objects.get(id=added.json()["id"])
    assert (attachment.owner_id, attachment.uploaded_by_id) == (alice.id, bob.id)  # counts in alice's quota
    assert attachment.file.startswith(f"users/{alice.id}/")


def test_every_attachment_endpoint_has_a_bounded_query_count(
    api: APIClient, make_entry: Any, django_assert_max_num_queries: Any
) -> None:
    entry = make_entry()
    base = f"/api/v1/entries/{entry['id']}/attachments"
    # A constant: visibility, write check, grantees, lock, entry, quota sum, row, history (with
    # tags), version, feed recipients, change_seq, feed time, change row, activity, savepoints.
    with django_assert_max_num_queries(18):
        body = upload(api, entry["id"], TEXT).json()
    with django_assert_max_num_queries(3):
        assert api.get(body["url"]).status_code == 302  # the row through the reader's query, the log
    with django_assert_max_num_queries(18):
        assert api.delete(f"{base}/{body['id']}/").status_code == 204
