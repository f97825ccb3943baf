"""The export and import pages of the web UI."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from accounts.tests.factories import PASSWORD
from entries import services
from entries.models import Entry
from portability.models import Export, Import
from portability.tests.samples import BOOKMARKS

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    return client


def upload(name: str, data: bytes) -> io.BytesIO:
    file = io.BytesIO(data)
    file.name = name
    return file


def test_import_bookmarks_with_a_preview_then_undo(
    alice: User, eager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    web = signed_in(alice)
    assert web.get("/import/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        staged = web.post("/import/upload/", {"file": upload("bookmarks.html", BOOKMARKS)})
    assert staged.status_code == 302
    page = web.get(staged["Location"]).content.decode()
    assert "What this import will create" in page
    assert "Django docs" in page
    assert not Entry.objects.filter(owner=alice).exists()  # nothing before the confirm
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"{staged['Location']}confirm/", {"skip_duplicates": "on"})
    done = web.get(staged["Location"]).content.decode()
    assert "Imported:</strong> 3 entries, 2 categories, 2 tags." in done
    assert "Importing" not in done  # it is done: no word of it being under way
    assert Entry.objects.filter(owner=alice, type="bookmark").count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"{staged['Location']}undo/")
    assert "Undone" in web.get(staged["Location"]).content.decode()
    assert not Entry.objects.filter(owner=alice).exists()


def test_counts_are_pluralised_and_an_undo_says_what_it_kept(
    alice: User, eager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    one = b"""<!DOCTYPE NETSCAPE-Bookmark-file-1>
<DL><p>
    <DT><H3>Reading</H3>
    <DL><p>
        <DT><A HREF="https://docs.djangoproject.com/" TAGS="dev">Django docs</A>
        <DT><A HREF="https://news.example.com/">News</A>
    </DL><p>
</DL><p>
"""
    web = signed_in(alice)
    with django_capture_on_commit_callbacks(execute=True):
        staged = web.post("/import/upload/", {"file": upload("bookmarks.html", one)})
    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"{staged['Location']}confirm/", {"skip_duplicates": "on"})
    assert "Imported:</strong> 2 entries, 1 category, 1 tag." in web.get(staged["Location"]).content.decode()
    news = Entry.objects.get(owner=alice, title="News")
    services.update_entry(actor=alice, entry_id=news.id, changes={"content": "read daily"})

    with django_capture_on_commit_callbacks(execute=True):
        web.post(f"{staged['Location']}undo/")

    page = web.get(staged["Location"]).content.decode()
    assert "except 1 entry you changed since the import (kept)" in page
    assert "Undoing" not in page


def test_an_unreadable_file_is_refused_at_once(alice: User) -> None:
    response = signed_in(alice).post("/import/upload/", {"file": upload("notes.exe", b"MZ\x90\x00 not a vault")})
    assert response.status_code == 400
    assert not Import.objects.exists()
    assert signed_in(alice).post("/import/upload/", {}).status_code == 400


def test_someone_elses_import_is_not_found(
    alice: User, bob: User, eager: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        staged = signed_in(bob).post("/import/upload/", {"file": upload("bookmarks.html", BOOKMARKS)})
    import_id = Import.objects.get(owner=bob).id
    assert staged.status_code == 302
    assert signed_in(alice).get(f"/import/{import_id}/").status_code == 404
    assert signed_in(alice).post(f"/import/{import_id}/confirm/").status_code == 404


def test_export_is_made_then_downloaded(alice: User, eager: Any, django_capture_on_commit_callbacks: Any) -> None:
    services.create_entry(actor=alice, type="note", title="Kept", content="words")
    web = signed_in(alice)
    short = web.post("/export/start/", {"passphrase": "short"})
    assert short.status_code == 400
    assert "At least 12 characters" in short.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert web.post("/export/start/", {}).status_code == 302
    page = web.get("/export/").content.decode()
    link = re.search(r'href="(/api/v1/exports/[^"]+)"', page)
    assert link is not None
    download = web.get(link.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"
    export = Export.objects.get(owner=alice)
    web.post(f"/export/{export.id}/delete/")
    assert "Download" not in web.get("/export/").content.decode()
