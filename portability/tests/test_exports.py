"""Exports: the whole vault in a ZIP (secrets decrypted, categories, tags, shares, the activity
log, attachments with checksums), optionally encrypted, downloaded through an expiring link,
logged, purged; progress while it runs; started by staff on a written request."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from entries import services
from entries.attachments.services import add_attachment
from entries.attachments.storage import storage_for
from portability import crypto, exports
from portability.models import Export
from portability.tests.conftest import PASSPHRASE
from sharing.services import create_share

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def vault(alice: User, bob: User) -> dict[str, Any]:
    work = services.create_category(actor=alice, name="Projects", color="#3366ff")
    sub = services.create_category(actor=alice, name="Apollo", parent=work.id)
    login = services.create_entry(
        actor=alice, type="password", title="Bank", category=sub.id, tags=["money"],
        fields={"username": "alice", "url": "https://bank.example.com", "secret": "s3cret-Pa55",
                "totp_seed": "JBSWY3DPEHPK3PXP"},
    )  # fmt: skip
    diary = services.create_entry(actor=alice, type="note", title="Diary", content="Dear diary", is_sensitive=True)
    note = services.create_entry(actor=alice, type="note", title="Plan", content="# Plan\nship it", tags=["work"])
    add_attachment(actor=alice, entry_id=note.id, file=ContentFile(b"%PDF-1.4 hello", name="plan.pdf"), name="plan.pdf")
    create_share(actor=alice, entry_id=note.id, grantee="bob@example.com")
    bobs = services.create_entry(actor=bob, type="note", title="Bob's own", content="not alice's")
    return {"login": login, "diary": diary, "note": note, "bobs": bobs}


def archive_of(data: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(data))


def download(client: APIClient, body: dict[str, Any]) -> bytes:
    response = client.get(body["download_url"])
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_export_holds_the_whole_vault_with_secrets_and_checksums(
    api: APIClient, run: Callable[..., Any], vault: dict[str, Any], alice: User
) -> None:
    started = run(api.post, "/api/v1/exports/", {}, format="json")
    assert started.status_code == 202, started.content

    body = api.get(f"/api/v1/exports/{started.json()['id']}/").json()
    assert body["status"] == "ready"
    assert body["progress"] == {"done": 3, "total": 3}
    assert body["file_name"].endswith(".zip")
    data = download(api, body)
    assert hashlib.sha256(data).hexdigest() == body["sha256"]

    archive = archive_of(data)
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["format"] == "personalpod-export"
    assert manifest["user"]["email"] == "alice@example.com"
    for name, digest in manifest["files"].items():  # every file's checksum holds
        assert hashlib.sha256(archive.read(name)).hexdigest() == digest, name
    index = json.loads(archive.read("index.json"))
    assert sorted(item["title"] for item in index) == ["Bank", "Diary", "Plan"]  # not Bob's
    login = json.loads(archive.read(f"entries/{vault['login'].id}.json"))
    assert login["fields"]["secret"] == "s3cret-Pa55"  # the owner's own copy: decrypted
    assert login["fields"]["totp_seed"] == "JBSWY3DPEHPK3PXP"
    assert login["category"]["path"] == ["Projects", "Apollo"]
    assert login["tags"] == ["money"]
    diary = json.loads(archive.read(f"entries/{vault['diary'].id}.json"))
    assert diary["content"] == "Dear diary"
    assert diary["is_sensitive"] is True
    note = json.loads(archive.read(f"entries/{vault['note'].id}.json"))
    (attachment,) = note["attachments"]
    assert archive.read(attachment["path"]) == b"%PDF-1.4 hello"
    assert attachment["sha256"] == hashlib.sha256(b"%PDF-1.4 hello").hexdigest()
    categories = {tuple(c["path"]): c for c in json.loads(archive.read("categories.json"))}
    assert categories[("Projects",)]["color"] == "#3366ff"
    assert ("Projects", "Apollo") in categories
    assert {tag["name"] for tag in json.loads(archive.read("tags.json"))} == {"money", "work"}
    (share,) = json.loads(archive.read("shares.json"))
    assert share["grantee"] == "bob@example.com"
    assert share["entry_title"] == "Plan"
    activity = json.loads(archive.read("activity.json"))
    assert {row["action"] for row in activity} >= {"create", "share", "export"}
    assert str(vault["bobs"].id) not in {row["target_id"] for row in activity}  # her log only
    assert manifest["counts"]["entries"] == 3
    assert manifest["counts"]["attachments"] == 1


def test_export_times_are_iso_8601_as_the_api_writes_them(
    api: APIClient, run: Callable[..., Any], vault: dict[str, Any]
) -> None:
    started = run(api.post, "/api/v1/exports/", {}, format="json")
    archive = archive_of(download(api, api.get(f"/api/v1/exports/{started.json()['id']}/").json()))

    manifest = json.loads(archive.read("manifest.json"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", manifest["exported_at"])
    login = vault["login"]
    written = json.loads(archive.read(f"entries/{login.id}.json"))
    api_says = api.get(f"/api/v1/entries/{login.id}/").json()
    assert (written["created_at"], written["updated_at"]) == (api_says["created_at"], api_says["updated_at"])
    (listed,) = (row for row in json.loads(archive.read("index.json")) if row["id"] == str(login.id))
    assert listed["updated_at"] == api_says["updated_at"]
    for name in archive.namelist():
        if name.endswith(".json"):  # no str(datetime) anywhere: "2026-12-05 01:14:15.165708+00:00"
            assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", archive.read(name).decode()), name


def test_export_is_logged_when_requested_made_and_downloaded(
    api: APIClient, run: Callable[..., Any], vault: dict[str, Any], alice: User
) -> None:
    body = run(api.post, "/api/v1/exports/", {}, format="json").json()
    download(api, api.get(f"/api/v1/exports/{body['id']}/").json())

    stages = list(
        ActivityLog.objects.filter(action="export", target_id=body["id"])
        .order_by("created_at")
        .values_list("metadata__stage", flat=True)
    )
    assert stages == ["requested", "ready", "downloaded"]
    assert Export.objects.get(id=body["id"]).download_count == 1


def test_encrypted_export_opens_only_with_its_passphrase(
    api: APIClient, run: Callable[..., Any], vault: dict[str, Any], tmp_path: Path
) -> None:
    body = run(api.post, "/api/v1/exports/", {"passphrase": PASSPHRASE}, format="json").json()
    body = api.get(f"/api/v1/exports/{body['id']}/").json()
    assert body["is_encrypted"] is True
    assert body["file_name"].endswith(".zip.ppenc")
    data = download(api, body)
    assert data.startswith(crypto.MAGIC)
    assert b"s3cret-Pa55" not in data
    assert Export.objects.get(id=body["id"]).passphrase_sealed is None  # not kept once used

    source = io.BytesIO(data)
    header = crypto.read_header(source)
    plain = b"".join(crypto.decrypt_chunks(source, crypto.passphrase_key(header, PASSPHRASE), header))
    assert "manifest.json" in archive_of(plain).namelist()
    source.seek(0)
    header = crypto.read_header(source)
    with pytest.raises(crypto.CannotOpen, match="wrong passphrase"):
        list(crypto.decrypt_chunks(source, crypto.passphrase_key(header, "not the passphrase!"), header))
    # The documented format opens without PersonalPod too.
    (tmp_path / "export.ppenc").write_bytes(data)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "decrypt-export.py"), str(tmp_path / "export.ppenc"),
         str(tmp_path / "export.zip")],
        env={**os.environ, "PERSONALPOD_EXPORT_PASSPHRASE": PASSPHRASE}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "export.zip").read_bytes() == plain


def test_a_truncated_encrypted_file_does_not_open() -> None:
    source, target = io.BytesIO(b"x" * (3 * crypto.CHUNK_SIZE + 5)), io.BytesIO()
    crypto.encrypt_with_passphrase(source, target, PASSPHRASE)
    whole = target.getvalue()
    for cut in (whole[:-5], whole[: len(whole) // 2]):
        stream = io.BytesIO(cut)
        header = crypto.read_header(stream)
        with pytest.raises(crypto.CannotOpen, match="truncated"):
            list(crypto.decrypt_chunks(stream, crypto.passphrase_key(header, PASSPHRASE), header))


@pytest.mark.parametrize(
    ("passphrase", "message"), [("short", "At least 12 characters"), ("x" * 1025, "no more than 1024")]
)
def test_a_passphrase_that_is_too_short_or_long_is_refused(api: APIClient, passphrase: str, message: str) -> None:
    response = api.post("/api/v1/exports/", {"passphrase": passphrase}, format="json")
    assert response.status_code == 400
    assert message in response.json()["error"]["fields"]["passphrase"][0]
    assert not Export.objects.exists()


def test_one_export_at_a_time(api: APIClient, alice: User) -> None:
    assert api.post("/api/v1/exports/", {}, format="json").status_code == 202  # queued, not run
    second = api.post("/api/v1/exports/", {}, format="json")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "export_in_progress"


def test_progress_is_visible_while_it_runs(
    api: APIClient, run: Callable[..., Any], alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        services.create_entry(actor=alice, type="note", title=f"Note {n}")
    seen: list[dict[str, Any]] = []
    original = exports._progress

    def watched(export: Export, done: int) -> None:
        original(export, done)
        seen.append(api.get(f"/api/v1/exports/{export.id}/").json())

    monkeypatch.setattr(exports, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(exports, "_progress", watched)
    run(api.post, "/api/v1/exports/", {}, format="json")

    assert [(body["status"], body["progress"]) for body in seen] == [
        ("running", {"done": 2, "total": 5}),
        ("running", {"done": 4, "total": 5}),
    ]


def test_the_link_expires_after_24_hours_and_the_file_is_purged(
    api: APIClient, run: Callable[..., Any], vault: dict[str, Any]
) -> None:
    body = run(api.post, "/api/v1/exports/", {}, format="json").json()
    body = api.get(f"/api/v1/exports/{body['id']}/").json()
    export = Export.objects.get(id=body["id"])
    assert export.expires_at is not None
    assert timedelta(hours=23, minutes=59) < export.expires_at - export.finished_at <= timedelta(hours=24)  # type: ignore[operator]
    assert storage_for(export.backend).exists(export.file)

    Export.objects.filter(id=export.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = api.get(body["download_url"])
    assert expired.status_code == 410
    assert exports.purge_expired_exports() == 1

    assert not storage_for(export.backend).exists(export.file)
    after = api.get(f"/api/v1/exports/{export.id}/").json()
    assert after["status"] == "expired"
    assert after["download_url"] is None


def test_a_forged_or_foreign_link_is_refused(
    api: APIClient, run: Callable[..., Any], vault: dict[str, Any], bob: User
) -> None:
    body = run(api.post, "/api/v1/exports/", {}, format="json").json()
    url = api.get(f"/api/v1/exports/{body['id']}/").json()["download_url"]
    assert api.get(url.split("?")[0] + "?token=forged").status_code == 410
    as_bob = APIClient()
    as_bob.force_authenticate(bob)
    assert as_bob.get(url).status_code == 404  # a link is no use to anyone but its owner
    assert Client().get(url).status_code == 401


def test_another_persons_export_is_not_found(api: APIClient, bob: User) -> None:
    theirs = exports.start_export(owner=bob, actor=bob)
    assert api.get(f"/api/v1/exports/{theirs.id}/").status_code == 404
    assert api.delete(f"/api/v1/exports/{theirs.id}/").status_code == 404
    assert api.get(f"/api/v1/exports/{theirs.id}/download/?token=x").status_code == 404


def test_exports_need_a_signed_in_person() -> None:
    client = APIClient()
    assert client.get("/api/v1/exports/").status_code == 401
    assert client.post("/api/v1/exports/", {}, format="json").status_code == 401


def test_deleting_an_export_removes_its_file_now(
    api: APIClient, run: Callable[..., Any], vault: dict[str, Any]
) -> None:
    body = run(api.post, "/api/v1/exports/", {}, format="json").json()
    export = Export.objects.get(id=body["id"])
    assert api.delete(f"/api/v1/exports/{export.id}/").status_code == 204
    assert not storage_for(export.backend).exists(export.file)
    assert Export.objects.get(id=export.id).status == "expired"


def test_listing_exports_is_bounded_in_queries(api: APIClient, alice: User, django_assert_max_num_queries: Any) -> None:
    for _ in range(5):
        Export.objects.create(owner=alice, requested_by=alice, status="ready")
    with django_assert_max_num_queries(3):
        response = api.get("/api/v1/exports/")
    assert len(response.json()["results"]) == 5


def test_staff_start_an_export_on_a_written_request(
    alice: User, run: Callable[..., Any], vault: dict[str, Any], client: Client
) -> None:
    from accounts.tests.factories import UserFactory

    staff = UserFactory(email="support@example.com", username="support", is_staff=True, is_superuser=True)
    client.force_login(staff)
    missing = client.post("/admin/portability/export/add/", {"owner": alice.id, "request_reference": ""})
    assert missing.status_code == 200  # the form again: the reference is required
    assert not Export.objects.exists()

    response = run(client.post, "/admin/portability/export/add/", {"owner": alice.id, "request_reference": "TICKET-42"})

    assert response.status_code == 302
    export = Export.objects.get()
    assert export.owner == alice
    assert export.requested_by == staff
    assert export.status == "ready"
    logged = ActivityLog.objects.get(action="export", metadata__stage="requested")
    assert logged.actor_id == staff.id
    assert logged.owner_id == alice.id
    assert logged.metadata["request_reference"] == "TICKET-42"
    assert logged.metadata["by_staff"] is True
    page = client.get(f"/admin/portability/export/{export.id}/change/").content.decode()
    assert "download" not in page.lower().replace("download_count", "").replace("download count", "")


@pytest.mark.django_db(transaction=True)
def test_the_worker_makes_the_export(celery_worker: Any, alice: User) -> None:
    services.create_entry(actor=alice, type="password", title="Mail", fields={"secret": "pw-in-the-worker"})
    client = APIClient()
    client.force_authenticate(alice)
    export_id = client.post("/api/v1/exports/", {}, format="json").json()["id"]
    deadline = time.monotonic() + 60
    while (body := client.get(f"/api/v1/exports/{export_id}/").json())["status"] not in ("ready", "failed"):
        assert time.monotonic() < deadline, body
        time.sleep(0.3)
    assert body["status"] == "ready", body
    data = download(client, body)
    entry = next(name for name in archive_of(data).namelist() if name.startswith("entries/"))
    assert json.loads(archive_of(data).read(entry))["fields"]["secret"] == "pw-in-the-worker"


def test_an_export_whose_worker_was_lost_fails_and_another_can_start(api: APIClient, alice: User) -> None:
    lost = api.post("/api/v1/exports/", {}, format="json").json()  # queued; no worker takes it
    Export.objects.filter(id=lost["id"]).update(created_at=timezone.now() - timedelta(hours=2))

    assert api.post("/api/v1/exports/", {}, format="json").status_code == 202
    exports.purge_expired_exports()

    body = api.get(f"/api/v1/exports/{lost['id']}/").json()
    assert body["status"] == "failed"
    assert "did not finish" in body["error"]


def test_reading_an_export_is_bounded_in_queries(
    api: APIClient, alice: User, django_assert_max_num_queries: Any
) -> None:
    export = Export.objects.create(owner=alice, requested_by=alice, status="ready")
    with django_assert_max_num_queries(2):
        assert api.get(f"/api/v1/exports/{export.id}/").status_code == 200
