"""Imports at their edges: an undo keeps what the person changed since, a cancel said twice, an
encrypted export cut short, and exports written before times were ISO 8601."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from entries import services
from entries.models import Entry, Tag
from portability import crypto
from portability.models import Import, ImportedObject
from portability.tests import samples
from portability.tests.conftest import PASSPHRASE, zip_of

pytestmark = pytest.mark.django_db


def imported(alice: User, title: str) -> Entry:
    return Entry.objects.get(owner=alice, title=title)


def test_undo_keeps_the_entries_changed_since_the_import(
    api: APIClient, alice: User, run: Callable[..., Any], import_file: Callable[..., dict[str, Any]]
) -> None:
    done = import_file(api, "bookmarks.html", samples.BOOKMARKS)
    sourdough = imported(alice, "Sourdough")
    services.update_entry(actor=alice, entry_id=sourdough.id, changes={"title": "Sourdough, my way"})

    assert run(api.post, f"/api/v1/imports/{done['id']}/undo/", format="json").status_code == 202

    body = api.get(f"/api/v1/imports/{done['id']}/").json()
    assert body["status"] == "undone"
    assert body["result"]["undo"] == {"removed": {"entry": 2, "category": 0, "tag": 2}, "kept_edited_count": 1}
    assert list(Entry.objects.filter(owner=alice).values_list("title", flat=True)) == ["Sourdough, my way"]
    kept = Entry.objects.select_related("category__parent").get(id=sourdough.id)
    assert kept.category is not None  # its categories hold it still: they stay
    assert (kept.category.parent.name, kept.category.name) == ("Bookmarks bar", "Recipes")  # type: ignore[union-attr]
    assert not Tag.objects.filter(owner=alice).exists()  # the removed bookmarks' tags
    assert ActivityLog.objects.get(action="import", metadata__stage="undone").metadata["kept_edited_count"] == 1


def test_undo_of_an_import_made_before_versions_were_recorded_keeps_what_changed_after_it(
    api: APIClient, alice: User, run: Callable[..., Any], import_file: Callable[..., dict[str, Any]]
) -> None:
    done = import_file(api, "bookmarks.html", samples.BOOKMARKS)
    ImportedObject.objects.filter(source_id=done["id"]).update(version=None)
    services.update_entry(actor=alice, entry_id=imported(alice, "News").id, changes={"content": "read daily"})

    run(api.post, f"/api/v1/imports/{done['id']}/undo/", format="json")

    assert list(Entry.objects.filter(owner=alice).values_list("title", flat=True)) == ["News"]
    assert api.get(f"/api/v1/imports/{done['id']}/").json()["result"]["undo"]["kept_edited_count"] == 1


def test_an_entry_changed_while_the_undo_runs_is_kept(
    api: APIClient, alice: User, run: Callable[..., Any], import_file: Callable[..., dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    done = import_file(api, "bookmarks.html", samples.BOOKMARKS)
    news = imported(alice, "News")
    real = services.delete_entry_forever

    def edited_meanwhile(*, entry_id: Any, **kwargs: Any) -> None:
        if entry_id == news.id:  # after the undo saw it unchanged, before it is deleted
            services.update_entry(actor=alice, entry_id=news.id, changes={"content": "mine now"})
        real(entry_id=entry_id, **kwargs)

    monkeypatch.setattr(services, "delete_entry_forever", edited_meanwhile)
    run(api.post, f"/api/v1/imports/{done['id']}/undo/", format="json")

    assert Entry.objects.get(id=news.id).content == "mine now"
    assert api.get(f"/api/v1/imports/{done['id']}/").json()["result"]["undo"]["kept_edited_count"] == 1


def test_a_failed_import_still_removes_everything_it_made(
    api: APIClient, alice: User, upload: Callable[..., Any], run: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from portability import imports

    staged = upload(api, "bookmarks.html", samples.BOOKMARKS).json()
    real, made = imports._entry, []

    def edit_then_fail(*args: Any, **kwargs: Any) -> None:
        made.append(1)
        if len(made) == 2:  # the person changes the first one while the import runs; then it fails
            first = Entry.objects.get(owner=alice)
            services.update_entry(actor=alice, entry_id=first.id, changes={"content": "changed"})
            raise RuntimeError("storage fell over")
        real(*args, **kwargs)

    monkeypatch.setattr(imports, "_entry", edit_then_fail)
    run(api.post, f"/api/v1/imports/{staged['id']}/confirm/", {}, format="json")

    assert api.get(f"/api/v1/imports/{staged['id']}/").json()["status"] == "failed"
    assert not Entry.objects.filter(owner=alice).exists()  # a failed import imports nothing


def test_cancelling_twice_is_the_same_as_once(api: APIClient, upload: Callable[..., Any]) -> None:
    staged = upload(api, "bookmarks.html", samples.BOOKMARKS).json()
    assert api.delete(f"/api/v1/imports/{staged['id']}/").status_code == 204

    again = api.delete(f"/api/v1/imports/{staged['id']}/")

    assert again.status_code == 204
    assert api.get(f"/api/v1/imports/{staged['id']}/").json()["status"] == "cancelled"


def test_a_confirmed_import_cannot_be_cancelled_and_says_why(
    api: APIClient, run: Callable[..., Any], import_file: Callable[..., dict[str, Any]]
) -> None:
    done = import_file(api, "bookmarks.html", samples.BOOKMARKS)
    imported_once = api.delete(f"/api/v1/imports/{done['id']}/")
    assert imported_once.status_code == 400
    assert "undo it instead" in imported_once.json()["error"]["fields"]["status"][0]
    run(api.post, f"/api/v1/imports/{done['id']}/undo/", format="json")

    undone = api.delete(f"/api/v1/imports/{done['id']}/")

    assert undone.status_code == 400
    assert "undone already" in undone.json()["error"]["fields"]["status"][0]
    assert api.get(f"/api/v1/imports/{done['id']}/").json()["status"] == "undone"


def encrypted(plain: bytes) -> bytes:
    sealed = io.BytesIO()
    crypto.encrypt_with_passphrase(io.BytesIO(plain), sealed, PASSPHRASE)
    return sealed.getvalue()


def cut_after_first_chunk(whole: bytes) -> bytes:
    header = crypto.read_header(io.BytesIO(whole))
    return whole[: len(header.aad) + 4 + crypto.CHUNK_SIZE + 16]


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda whole: whole[: len(whole) // 2], id="in-a-chunk"),
        pytest.param(cut_after_first_chunk, id="after-a-whole-chunk"),
    ],
)
def test_a_truncated_encrypted_export_blames_the_file_not_the_passphrase(
    api: APIClient, upload: Callable[..., Any], cut: Callable[[bytes], bytes]
) -> None:
    whole = encrypted(zip_of({"manifest.json": "{}", "big.bin": os.urandom(crypto.CHUNK_SIZE + 4096)},
                             compression=zipfile.ZIP_STORED))  # fmt: skip

    response = upload(api, "export.zip.ppenc", cut(whole), passphrase=PASSPHRASE)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "malformed_file"
    assert "truncated" in error["message"]
    assert list(error["fields"]) == ["file"]
    assert not Import.objects.exists()


ISO = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)Z")


def as_written_before(export: bytes) -> bytes:
    """The export as PersonalPod wrote it before its times were ISO 8601 (str() of a datetime)."""
    original = zipfile.ZipFile(io.BytesIO(export))
    files = {name: original.read(name) for name in original.namelist()}
    for name in files:
        if name.endswith(".json"):
            files[name] = ISO.sub(r"\1 \2+00:00", files[name].decode()).encode()
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {name: hashlib.sha256(files[name]).hexdigest() for name in manifest["files"]}
    files["manifest.json"] = json.dumps(manifest).encode()
    return zip_of(files)


def test_exports_from_before_and_after_iso_times_both_import(
    api: APIClient, alice: User, carol: User, as_carol: APIClient, bob: User, run: Callable[..., Any],
    import_file: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=123456)
    services.create_entry(actor=alice, type="note", title="Visa", content="renew", expires_at=expires)
    exported = run(api.post, "/api/v1/exports/", {}, format="json").json()
    url = api.get(f"/api/v1/exports/{exported['id']}/").json()["download_url"]
    data = b"".join(api.get(url).streaming_content)  # type: ignore[attr-defined]
    old = as_written_before(data)
    assert b'+00:00"' in zipfile.ZipFile(io.BytesIO(old)).read("manifest.json")
    as_bob = APIClient()
    as_bob.force_authenticate(bob)

    import_file(as_carol, "personalpod-export.zip", data)
    import_file(as_bob, "personalpod-export-old.zip", old)

    assert Entry.objects.get(owner=carol, title="Visa").expires_at == expires
    assert Entry.objects.get(owner=bob, title="Visa").expires_at == expires


def test_an_entry_edited_while_its_attachments_come_in_is_kept_by_an_undo(
    api: APIClient, as_carol: APIClient, alice: User, carol: User, run: Callable[..., Any],
    import_file: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from django.core.files.base import ContentFile

    from entries.attachments.services import add_attachment
    from portability import imports

    plan = services.create_entry(actor=alice, type="note", title="Plan", content="ship")
    add_attachment(actor=alice, entry_id=plan.id, file=ContentFile(b"%PDF-1.4 plan", name="plan.pdf"), name="plan.pdf")
    exported = run(api.post, "/api/v1/exports/", {}, format="json").json()
    url = api.get(f"/api/v1/exports/{exported['id']}/").json()["download_url"]
    data = b"".join(api.get(url).streaming_content)  # type: ignore[attr-defined]

    def edited_meanwhile(**kwargs: Any) -> Any:
        attachment = add_attachment(**kwargs)
        services.update_entry(actor=carol, entry_id=kwargs["entry_id"], changes={"title": "Plan, mine"})
        return attachment

    monkeypatch.setattr(imports, "add_attachment", edited_meanwhile)
    done = import_file(as_carol, "personalpod-export.zip", data)
    assert run(as_carol.post, f"/api/v1/imports/{done['id']}/undo/", format="json").status_code == 202
    assert Entry.objects.filter(owner=carol, title="Plan, mine").exists()
