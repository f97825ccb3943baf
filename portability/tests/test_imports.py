"""Imports: each format from a small file, staged (preview, duplicates, confirm), undone as a
whole; the round trip of our own export; every bad input a clear error with nothing imported."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from entries import services
from entries.attachments.models import Attachment
from entries.attachments.services import add_attachment
from entries.attachments.storage import storage_for
from entries.crypto import envelope
from entries.models import Category, Entry, Tag
from portability import crypto
from portability.models import Import, ImportedObject
from portability.tests import samples
from portability.tests.conftest import PASSPHRASE, zip_of

pytestmark = pytest.mark.django_db


def whole(entry: Entry) -> tuple[str, dict[str, Any]]:
    """An entry's content and fields, secrets included."""
    secrets = envelope.unseal(entry.id, entry.owner_id, entry.content_encrypted)
    return envelope.join(entry.type, entry.content, entry.fields, secrets)


def names(category: Category | None) -> list[str]:
    path = []
    while category is not None:
        path.insert(0, category.name)
        category = category.parent
    return path


def category_path(entry: Entry) -> list[str]:
    return names(entry.category)


def test_bitwarden_logins_notes_cards_and_identities(
    api: APIClient, alice: User, import_file: Callable[..., dict[str, Any]]
) -> None:
    done = import_file(api, "bitwarden_export.json", samples.BITWARDEN)

    assert done["preview"]["counts"]["by_type"] == {"password": 3, "note": 1, "contact": 1}
    assert "Work / Servers" in done["preview"]["categories"]
    entries = {entry.title: entry for entry in Entry.objects.filter(owner=alice).select_related("category")}
    server = entries["Build server"]
    assert server.type == "password"
    _, fields = whole(server)
    assert fields["secret"] == "hunter2-ci"
    assert fields["totp_seed"] == "JBSWY3DPEHPK3PXP"
    assert fields["url"] == "https://ci.example.com/login"
    assert "androidapp://com.example.ci" in fields["notes"]
    assert server.is_sensitive  # a hidden custom field (the PIN) has no secret field of its own
    assert category_path(server) == ["Work", "Servers"]
    assert {tag.name for tag in server.tags.all()} == {"favorite"}
    assert "hunter2-ci" not in json.dumps(server.fields)  # sealed, not plain
    mail = entries["Mail"]
    assert not mail.is_sensitive
    assert mail.fields["username"] == "me@example.com"
    assert whole(mail)[1]["secret"] == "mail-pw-9"
    assert entries["Wi-Fi at home"].type == "note"
    visa = entries["Visa"]
    assert visa.is_sensitive
    _, card = whole(visa)
    assert card["secret"] == "4111111111111111"
    assert "Security code: 123" in card["notes"]
    assert "Expires: 04/2029" in card["notes"]
    me = entries["Me"]
    assert me.type == "contact"
    assert me.is_sensitive  # it holds an SSN and a passport number
    about, contact = whole(me)
    assert contact["name"] == "Mx Alex Martin"
    assert contact["emails"] == ["alex@example.com"]
    assert contact["addresses"] == ["1 Main St, Lisbon, 1000-001, PT"]
    assert "Passport number: P1234567" in about


def test_bookmarks_with_folders_as_categories(
    api: APIClient, alice: User, import_file: Callable[..., dict[str, Any]]
) -> None:
    done = import_file(api, "bookmarks.html", samples.BOOKMARKS)

    bookmarks = {entry.title: entry for entry in Entry.objects.filter(owner=alice, type="bookmark")}
    assert set(bookmarks) == {"Django docs", "Sourdough", "News"}
    assert category_path(bookmarks["Sourdough"]) == ["Bookmarks bar", "Recipes"]
    assert category_path(bookmarks["News"]) == []
    django = bookmarks["Django docs"]
    assert django.fields == {"url": "https://docs.djangoproject.com/", "description": "The web framework & its docs"}
    assert {tag.name for tag in django.tags.all()} == {"dev", "python"}
    assert any("not a web address" in warning for warning in done["preview"]["warnings"])
    assert done["result"]["entry"] == 3


def test_vcard_3_and_4_contacts(api: APIClient, alice: User, import_file: Callable[..., dict[str, Any]]) -> None:
    import_file(api, "contacts.vcf", samples.VCARD_3)
    import_file(api, "more.vcf", samples.VCARD_4)

    contacts = {entry.title: entry for entry in Entry.objects.filter(owner=alice, type="contact")}
    sam = contacts["Sam Rivera"]
    assert sam.fields == {
        "name": "Sam Rivera", "emails": ["sam@example.com"], "phones": ["+351 912 345 678"],
        "organisation": "Rivera Design Studio", "addresses": ["Rua Augusta 1, Lisboa, 1100-048, Portugal"],
        "birthday": "1990-04-21",
    }  # fmt: skip
    assert sam.content == "Met at the conference, 2024.\nLikes climbing."
    assert {tag.name for tag in sam.tags.all()} == {"friends", "climbing"}
    assert contacts["Dr. Priya Shah"].content.endswith("exporting application.")
    jo = contacts["Jo Becker"]
    assert jo.fields["emails"] == ["jo.becker@work.example", "jo@example.org"]
    assert jo.fields["phones"] == ["+49-30-1234567"]
    assert "Birthday: --0421" in jo.content


def test_markdown_notes_with_front_matter_tags_and_folders(
    api: APIClient, alice: User, import_file: Callable[..., dict[str, Any]]
) -> None:
    done = import_file(api, "notes.zip", zip_of(samples.MARKDOWN))

    notes = {entry.title: entry for entry in Entry.objects.filter(owner=alice, type="note")}
    assert set(notes) == {"Things to buy", "Retrospective", "Plan"}
    assert {tag.name for tag in notes["Things to buy"].tags.all()} == {"shopping", "home"}
    assert notes["Things to buy"].content == "- milk\n- bread"
    assert {tag.name for tag in notes["Retrospective"].tags.all()} == {"work", "retro"}
    assert category_path(notes["Retrospective"]) == ["Work", "Meetings"]  # "vault/" is the export's own folder
    assert category_path(notes["Things to buy"]) == []
    assert any("not Markdown notes were left out" in warning for warning in done["preview"]["warnings"])


def test_preview_marks_duplicates_and_confirm_skips_them(
    api: APIClient, alice: User, upload: Callable[..., Any], run: Callable[..., Any],
    import_file: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    import_file(api, "bookmarks.html", samples.BOOKMARKS)
    services.create_entry(actor=alice, type="contact", title="Sam Rivera", content="mine")

    again = upload(api, "bookmarks.html", samples.BOOKMARKS).json()
    preview = api.get(f"/api/v1/imports/{again['id']}/").json()["preview"]
    assert preview["counts"]["entries"] == 0
    assert preview["counts"]["duplicates"] == 3
    assert all(item["duplicate"] for item in preview["items"])
    run(api.post, f"/api/v1/imports/{again['id']}/confirm/", {}, format="json")
    assert Entry.objects.filter(owner=alice, type="bookmark").count() == 3

    both = upload(api, "all.vcf", samples.VCARD_3 + samples.VCARD_3).json()
    counts = api.get(f"/api/v1/imports/{both['id']}/").json()["preview"]["counts"]
    assert (counts["entries"], counts["duplicates"]) == (2, 2)  # the same cards twice in one file


def test_undo_removes_what_the_import_made_and_nothing_else(
    api: APIClient, alice: User, run: Callable[..., Any], import_file: Callable[..., dict[str, Any]]
) -> None:
    services.create_entry(actor=alice, type="bookmark", title="Mine", tags=["dev"], fields={"url": "https://a.example"})
    before_categories = set(Category.objects.filter(owner=alice).values_list("id", flat=True))
    done = import_file(api, "bookmarks.html", samples.BOOKMARKS)
    assert done["can_undo"] is True
    ids = list(ImportedObject.objects.filter(source_id=done["id"], kind="entry").values_list("object_id", flat=True))

    response = run(api.post, f"/api/v1/imports/{done['id']}/undo/", format="json")

    assert response.status_code == 202
    assert api.get(f"/api/v1/imports/{done['id']}/").json()["status"] == "undone"
    assert not Entry.objects.filter(id__in=ids).exists()
    assert list(Entry.objects.filter(owner=alice).values_list("title", flat=True)) == ["Mine"]
    assert set(Category.objects.filter(owner=alice).values_list("id", flat=True)) == before_categories
    assert set(Tag.objects.filter(owner=alice).values_list("name", flat=True)) == {"dev"}  # kept: still used
    assert ActivityLog.objects.filter(action="delete", target_id__in=[str(i) for i in ids]).count() == 3
    again = api.post(f"/api/v1/imports/{done['id']}/undo/", format="json")
    assert again.status_code == 400


def test_undo_is_refused_after_seven_days(
    api: APIClient, alice: User, import_file: Callable[..., dict[str, Any]]
) -> None:
    done = import_file(api, "bookmarks.html", samples.BOOKMARKS)
    assert Import.objects.get(id=done["id"]).undo_until > timezone.now() + timedelta(days=6, hours=23)  # type: ignore[operator]
    Import.objects.filter(id=done["id"]).update(undo_until=timezone.now() - timedelta(seconds=1))

    response = api.post(f"/api/v1/imports/{done['id']}/undo/", format="json")

    assert response.status_code == 400
    assert "7 days" in response.json()["error"]["fields"]["status"][0]
    assert Entry.objects.filter(owner=alice).count() == 3


def test_export_then_import_into_an_empty_account_gives_the_same_vault(
    api: APIClient, as_carol: APIClient, alice: User, carol: User, run: Callable[..., Any],
    import_file: Callable[..., dict[str, Any]],
) -> None:  # fmt: skip
    projects = services.create_category(actor=alice, name="Projects", color="#3366ff", icon="rocket")
    apollo = services.create_category(actor=alice, name="Apollo", parent=projects.id)
    services.create_tag(actor=alice, name="Unused", color="#ff0000")
    services.create_entry(actor=alice, type="password", title="Bank", category=apollo.id, tags=["money"],
                          fields={"username": "alice", "secret": "s3cret", "totp_seed": "JBSWY3DPEHPK3PXP"})  # fmt: skip
    services.create_entry(actor=alice, type="note", title="Diary", content="Dear diary", is_sensitive=True,
                          tags=["private"])  # fmt: skip
    plan = services.create_entry(actor=alice, type="note", title="Plan", content="ship", status="archived")
    add_attachment(actor=alice, entry_id=plan.id, file=ContentFile(b"%PDF-1.4 plan", name="plan.pdf"), name="plan.pdf")
    trashed = services.create_entry(actor=alice, type="bookmark", title="Old", fields={"url": "https://old.example"})
    services.set_status(actor=alice, entry_id=trashed.id, status="deleted")
    services.create_entry(actor=alice, type="task", title="Water plants", category=projects.id,
                          fields={"recurrence": "weekly", "due_at": "2026-01-05T09:00:00+00:00", "is_done": True})  # fmt: skip
    services.create_entry(actor=alice, type="contact", title="Sam", fields={"emails": ["sam@example.com"]})
    exported = run(api.post, "/api/v1/exports/", {"passphrase": PASSPHRASE}, format="json").json()
    url = api.get(f"/api/v1/exports/{exported['id']}/").json()["download_url"]
    data = b"".join(api.get(url).streaming_content)  # type: ignore[attr-defined]

    import_file(as_carol, "personalpod-export.zip.ppenc", data, passphrase=PASSPHRASE)

    def vault(owner: User) -> list[tuple[Any, ...]]:
        rows = []
        for entry in Entry.objects.filter(owner=owner).select_related("category__parent").prefetch_related("tags"):
            content, fields = whole(entry)
            fields = {k: v for k, v in fields.items() if k not in ("done_at", "next_occurrence_id")}
            attachments = sorted((a.name, a.sha256, a.size) for a in Attachment.objects.filter(entry=entry))
            rows.append((entry.type, entry.title, content, json.dumps(fields, sort_keys=True), entry.status,
                         entry.is_sensitive, tuple(category_path(entry)), tuple(sorted(t.name for t in entry.tags.all())),
                         tuple(attachments)))  # fmt: skip
        return sorted(rows)

    assert vault(carol) == vault(alice)
    # Six entries and the done weekly task's next occurrence: carried over, not spawned a second time.
    assert len(vault(carol)) == 7

    def tags(owner: User) -> set[tuple[str, str]]:
        return set(Tag.objects.filter(owner=owner).values_list("name", "color"))

    def categories(owner: User) -> set[tuple[Any, ...]]:
        return {(tuple(names(c)), c.color, c.icon) for c in Category.objects.filter(owner=owner)}

    assert tags(carol) == tags(alice)
    assert categories(carol) == categories(alice)
    stored = Attachment.objects.get(owner=carol)
    with storage_for(stored.backend).open(stored.file, "rb") as handle:
        assert handle.read() == b"%PDF-1.4 plan"


@pytest.mark.parametrize(
    ("name", "data", "code", "field"),
    [
        ("notes.txt", b"just some words", "unknown_format", "file"),
        ("empty.json", b"", "empty_file", "file"),
        ("truncated.zip", zip_of(samples.MARKDOWN)[:-40], "malformed_file", "file"),
        ("escape.zip", zip_of({"../../etc/passwd.md": "# owned"}), "unsafe_path", "file"),
        ("absolute.zip", zip_of({"/tmp/x.md": "# owned"}), "unsafe_path", "file"),
        ("bomb.zip", zip_of({"bomb.md": b"0" * (20 * 1024 * 1024)}), "zip_bomb", "file"),
        ("random.zip", zip_of({"photo.jpg": b"\xff\xd8\xff"}), "unknown_format", "file"),
    ],
)
def test_bad_files_are_refused_at_once_and_nothing_is_stored(
    api: APIClient, alice: User, upload: Callable[..., Any], name: str, data: bytes, code: str, field: str
) -> None:
    response = upload(api, name, data)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code
    assert error["fields"][field][0] == error["message"]
    assert not Import.objects.exists()
    assert not Entry.objects.filter(owner=alice).exists()


@pytest.mark.parametrize(
    ("name", "data", "code", "message"),
    [
        ("truncated.json", samples.BITWARDEN[:-30], "malformed_file", "not valid JSON"),
        ("encrypted.json", json.dumps({"encrypted": True, "passwordProtected": True, "items": []}).encode(),
         "encrypted_export", "export again as unencrypted JSON"),
        ("huge.vcf", ("BEGIN:VCARD\nVERSION:3.0\nFN:Many\n" + "EMAIL:a@example.com\n" * 5000 + "END:VCARD\n").encode(),
         "too_many_fields", "has more than 200 properties"),
        ("cut.vcf", samples.VCARD_3[:-12], "malformed_file", "truncated"),
        ("old.vcf", b"BEGIN:VCARD\nVERSION:2.1\nFN:Old\nEND:VCARD\n", "unsupported_version", "only 3.0 and 4.0"),
        ("cut.html", samples.BOOKMARKS[: samples.BOOKMARKS.index(b"</DL><p>\n    <DT><A")], "malformed_file",
         "truncated"),
        ("bad-yaml.zip", zip_of({"a.md": "---\ntags: [unclosed\n---\nbody"}), "malformed_file", "not valid YAML"),
    ],
)  # fmt: skip
def test_malformed_content_fails_the_import_with_nothing_imported(
    api: APIClient, alice: User, upload: Callable[..., Any], name: str, data: bytes, code: str, message: str
) -> None:
    response = upload(api, name, data)
    assert response.status_code == 202, response.content

    body = api.get(f"/api/v1/imports/{response.json()['id']}/").json()

    assert body["status"] == "failed"
    assert body["error"]["code"] == code
    assert message in body["error"]["message"]
    assert body["preview"] == {}
    assert not Entry.objects.filter(owner=alice).exists()
    assert Import.objects.get(id=body["id"]).file == ""  # the staged file is gone


def test_an_encrypted_export_needs_its_passphrase(api: APIClient, upload: Callable[..., Any]) -> None:
    sealed = io.BytesIO()
    crypto.encrypt_with_passphrase(io.BytesIO(zip_of({"manifest.json": "{}"})), sealed, PASSPHRASE)
    missing = upload(api, "export.zip.ppenc", sealed.getvalue())
    assert missing.status_code == 400
    assert missing.json()["error"]["fields"]["passphrase"] == ["This export is encrypted: give its passphrase."]
    wrong = upload(api, "export.zip.ppenc", sealed.getvalue(), passphrase="not the right one")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "wrong_passphrase"
    assert not Import.objects.exists()


def test_a_damaged_export_fails_before_anything_is_imported(
    api: APIClient, alice: User, carol: User, as_carol: APIClient, run: Callable[..., Any],
    upload: Callable[..., Any],
) -> None:  # fmt: skip
    services.create_entry(actor=alice, type="note", title="One", content="first")
    exported = run(api.post, "/api/v1/exports/", {}, format="json").json()
    url = api.get(f"/api/v1/exports/{exported['id']}/").json()["download_url"]
    original = zipfile.ZipFile(io.BytesIO(b"".join(api.get(url).streaming_content)))  # type: ignore[attr-defined]
    files = {name: original.read(name) for name in original.namelist()}
    entry_file = next(name for name in files if name.startswith("entries/"))
    files[entry_file] = files[entry_file].replace(b"first", b"forged")

    body = upload(as_carol, "export.zip", zip_of(files)).json()

    body = as_carol.get(f"/api/v1/imports/{body['id']}/").json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "damaged_export"
    assert not Entry.objects.filter(owner=carol).exists()


def test_a_failure_while_creating_removes_what_was_made(
    api: APIClient, alice: User, upload: Callable[..., Any], run: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    staged = upload(api, "bookmarks.html", samples.BOOKMARKS).json()
    from portability import imports

    real, calls = imports._entry, []

    def failing(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("storage fell over")
        real(*args, **kwargs)

    monkeypatch.setattr(imports, "_entry", failing)
    run(api.post, f"/api/v1/imports/{staged['id']}/confirm/", {}, format="json")

    body = api.get(f"/api/v1/imports/{staged['id']}/").json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "import_failed"
    assert not Entry.objects.filter(owner=alice).exists()
    assert not Category.objects.filter(owner=alice, name="Recipes").exists()


def test_the_staged_file_is_kept_encrypted(api: APIClient, alice: User, upload: Callable[..., Any]) -> None:
    body = upload(api, "bitwarden.json", samples.BITWARDEN).json()
    staged = Import.objects.get(id=body["id"])
    with storage_for(staged.backend).open(staged.file, "rb") as handle:
        stored = handle.read()
    assert stored.startswith(crypto.MAGIC)
    assert b"hunter2-ci" not in stored
    assert "hunter2-ci" not in json.dumps(body["preview"])
    assert ActivityLog.objects.filter(action="import", metadata__stage="uploaded").count() == 1


def test_a_staged_import_can_be_cancelled(api: APIClient, upload: Callable[..., Any]) -> None:
    body = upload(api, "bookmarks.html", samples.BOOKMARKS).json()
    staged = Import.objects.get(id=body["id"])
    assert api.delete(f"/api/v1/imports/{staged.id}/").status_code == 204
    assert not storage_for(staged.backend).exists(staged.file)
    assert api.get(f"/api/v1/imports/{staged.id}/").json()["status"] == "cancelled"
    assert api.post(f"/api/v1/imports/{staged.id}/confirm/", {}, format="json").status_code == 400


def test_another_persons_import_is_not_found(api: APIClient, bob: User, upload: Callable[..., Any]) -> None:
    as_bob = APIClient()
    as_bob.force_authenticate(bob)
    theirs = upload(as_bob, "bookmarks.html", samples.BOOKMARKS).json()["id"]
    assert api.get(f"/api/v1/imports/{theirs}/").status_code == 404
    assert api.post(f"/api/v1/imports/{theirs}/confirm/", {}, format="json").status_code == 404
    assert api.post(f"/api/v1/imports/{theirs}/undo/", format="json").status_code == 404
    assert api.delete(f"/api/v1/imports/{theirs}/").status_code == 404


def test_imports_need_a_signed_in_person() -> None:
    client = APIClient()
    assert client.get("/api/v1/imports/").status_code == 401
    assert client.post("/api/v1/imports/", {}, format="multipart").status_code == 401


def test_bad_request_fields_are_named(api: APIClient, upload: Callable[..., Any]) -> None:
    no_file = api.post("/api/v1/imports/", {"format": "vcard"}, format="multipart")
    assert no_file.status_code == 400
    assert "file" in no_file.json()["error"]["fields"]
    unknown = upload(api, "contacts.vcf", samples.VCARD_3, format="outlook")
    assert unknown.status_code == 400
    assert "format" in unknown.json()["error"]["fields"]
    wrong = upload(api, "contacts.vcf", samples.VCARD_3, format="bitwarden")
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "wrong_format"
    assert "format" in wrong.json()["error"]["fields"]


def test_listing_imports_is_bounded_in_queries(api: APIClient, alice: User, django_assert_max_num_queries: Any) -> None:
    for _ in range(5):
        Import.objects.create(owner=alice, format="vcard", original_name="a.vcf", size=1, sha256="0" * 64)
    with django_assert_max_num_queries(3):
        response = api.get("/api/v1/imports/")
    assert len(response.json()["results"]) == 5


def test_unconfirmed_uploads_are_purged(api: APIClient, upload: Callable[..., Any]) -> None:
    from portability.imports import purge_stale_imports

    body = upload(api, "bookmarks.html", samples.BOOKMARKS).json()
    staged = Import.objects.get(id=body["id"])
    assert purge_stale_imports() == 0
    assert purge_stale_imports(now=timezone.now() + timedelta(hours=25)) == 1
    assert not storage_for(staged.backend).exists(staged.file)


@pytest.mark.django_db(transaction=True)
def test_the_worker_reads_and_imports(celery_worker: Any, alice: User) -> None:
    client = APIClient()
    client.force_authenticate(alice)
    file = io.BytesIO(samples.VCARD_3)
    file.name = "contacts.vcf"
    staged = client.post("/api/v1/imports/", {"file": file}, format="multipart").json()

    def wait_for(status: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while (body := client.get(f"/api/v1/imports/{staged['id']}/").json())["status"] != status:
            assert body["status"] != "failed", body
            assert time.monotonic() < deadline, body
            time.sleep(0.3)
        return body

    assert wait_for("ready")["preview"]["counts"]["entries"] == 2
    client.post(f"/api/v1/imports/{staged['id']}/confirm/", {}, format="json")
    assert wait_for("done")["result"]["entry"] == 2
    assert set(Entry.objects.filter(owner=alice).values_list("title", flat=True)) == {"Sam Rivera", "Dr. Priya Shah"}


def test_an_import_whose_worker_was_lost_is_resumed(
    api: APIClient, alice: User, upload: Callable[..., Any], run: Callable[..., Any]
) -> None:
    from portability import imports

    staged = upload(api, "bookmarks.html", samples.BOOKMARKS).json()
    api.post(f"/api/v1/imports/{staged['id']}/confirm/", {}, format="json")  # the task is lost
    Import.objects.filter(id=staged["id"]).update(confirmed_at=timezone.now() - timedelta(hours=2))
    assert api.get(f"/api/v1/imports/{staged['id']}/").json()["status"] == "importing"

    assert run(imports.resume_lost_imports) == 1

    assert api.get(f"/api/v1/imports/{staged['id']}/").json()["status"] == "done"
    assert Entry.objects.filter(owner=alice).count() == 3


def test_reading_an_import_is_bounded_in_queries(
    api: APIClient, alice: User, django_assert_max_num_queries: Any
) -> None:
    staged = Import.objects.create(owner=alice, format="vcard", original_name="a.vcf", size=1, sha256="0" * 64)
    with django_assert_max_num_queries(2):
        assert api.get(f"/api/v1/imports/{staged.id}/").status_code == 200


def test_a_login_with_a_changed_password_is_not_a_duplicate(
    api: APIClient, alice: User, upload: Callable[..., Any], import_file: Callable[..., dict[str, Any]]
) -> None:
    import_file(api, "bitwarden.json", samples.BITWARDEN)
    changed = samples.BITWARDEN.replace(b'"mail-pw-9"', b'"mail-pw-10"')
    staged = upload(api, "bitwarden.json", changed).json()
    items = {item["title"]: item for item in api.get(f"/api/v1/imports/{staged['id']}/").json()["preview"]["items"]}
    assert items["Build server"]["duplicate"] is True
    assert items["Mail"]["duplicate"] is False


def test_the_duplicate_check_opens_every_secret_in_a_bounded_number_of_queries(
    alice: User, django_assert_max_num_queries: Any
) -> None:
    from portability.reading import existing_hashes

    for n in range(5):
        services.create_entry(actor=alice, type="password", title=f"Login {n}", fields={"secret": f"pw-{n}"})
    with django_assert_max_num_queries(2):
        assert len(existing_hashes(alice)) == 5
