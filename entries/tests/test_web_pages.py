"""The entries web pages through Django's test client (the Chromium tests are in browser/)."""

from __future__ import annotations

import io
import re
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.models import Action, ActivityLog, User
from accounts.tests.factories import PASSWORD
from entries import services
from entries.models import Category, Entry, EntryVersion, Status, Tag
from entries.totp import code_at

pytestmark = pytest.mark.django_db
SEED = "JBSWY3DPEHPK3PXP"


def signed_in(user: User) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"email": user.email, "password": PASSWORD}).status_code == 302
    return client


def note(owner: User, title: str = "A note", **extra: Any) -> Entry:
    return services.create_entry(actor=owner, type="note", title=title, **extra)


def test_pages_need_sign_in() -> None:
    for path in ("/entries/", "/entries/new/note/", "/trash/", "/search/?q=x", "/categories/", "/activity/"):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_every_page_renders_with_the_csp_and_no_inline_script(web: Client, alice: User) -> None:
    entries = [
        note(alice, "Hello", content="# Hi", tags=["x"]),
        services.create_entry(
            actor=alice, type="password", title="Bank", fields={"secret": "s3cret", "totp_seed": SEED}
        ),
        services.create_entry(actor=alice, type="task", title="Do", fields={"due_at": "2031-01-01T10:00:00Z"}),
        services.create_entry(actor=alice, type="contact", title="Sam", fields={"emails": ["sam@example.com"]}),
        services.create_entry(actor=alice, type="bookmark", title="Site", fields={"url": "https://example.com/"}),
        services.create_entry(actor=alice, type="document", title="Doc"),
    ]
    paths = ["/", "/entries/", "/entries/?type=task&sort=due", "/entries/new/", "/search/?q=hel", "/trash/",
             "/categories/", "/tags/", "/activity/", "/accounts/tokens/", "/accounts/profile/", "/accounts/sessions/"]  # fmt: skip
    paths += [f"/entries/new/{kind}/" for kind in ("note", "password", "task", "contact", "bookmark", "document")]
    for entry in entries:
        paths += [f"/entries/{entry.id}/", f"/entries/{entry.id}/edit/", f"/entries/{entry.id}/history/"]
    for path in paths:
        response = web.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self';" in policy
        assert "unsafe-inline" not in policy
        html = response.content.decode()
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), path  # every script is a file
        assert not re.search(r"\son[a-z]+=", html), path  # no inline handlers
        assert " style=" not in html, path


def test_another_persons_entry_does_not_exist_for_you(web: Client, bob: User) -> None:
    theirs = services.create_entry(actor=bob, type="password", title="Bob's bank", fields={"secret": "b0b"})
    for path in ("", "edit/", "history/", "files/", "secret/"):
        assert web.get(f"/entries/{theirs.id}/{path}").status_code == 404, path
    for path in ("reveal/", "totp/", "status/", "done/", "delete/", "history/1/restore/"):
        assert web.post(f"/entries/{theirs.id}/{path}", {"status": "deleted"}).status_code == 404, path
    theirs.refresh_from_db()
    assert theirs.status == Status.ACTIVE
    assert not ActivityLog.objects.filter(owner_id=bob.id, action=Action.VIEW).exists()


def test_creating_shows_the_services_field_errors_next_to_the_inputs(web: Client, alice: User) -> None:
    response = web.post("/entries/new/bookmark/", {"title": "Bad", "url": "javascript:alert(1)", "status": "active"})
    assert response.status_code == 400
    assert "Enter a valid http or https URL." in response.content.decode()
    assert not Entry.objects.filter(owner=alice).exists()


def test_creating_a_contact_with_several_addresses_and_a_task_in_my_time_zone(web: Client, alice: User) -> None:
    alice.timezone = "Europe/Lisbon"
    alice.save(update_fields=["timezone"])
    web.post("/entries/new/contact/", {"title": "Sam", "emails": ["sam@example.com", "", "sam@work.example"],
                                       "phones": ["+351 912 345 678"], "addresses": "Rua A\r\n1000\r\n\r\nRua B",
                                       "status": "active"})  # fmt: skip
    contact = Entry.objects.get(owner=alice, type="contact")
    assert contact.fields["emails"] == ["sam@example.com", "sam@work.example"]
    assert contact.fields["addresses"] == ["Rua A\n1000", "Rua B"]
    web.post(
        "/entries/new/task/", {"title": "Call", "due_at": "2031-07-01T09:00", "priority": "high", "status": "active"}
    )
    task = Entry.objects.get(owner=alice, type="task")
    assert task.fields["due_at"] == "2031-07-01T08:00:00+00:00"  # 09:00 in Lisbon's summer time


def test_an_edit_that_leaves_the_password_empty_keeps_it(web: Client, alice: User) -> None:
    entry = services.create_entry(actor=alice, type="password", title="Bank", fields={"secret": "old-secret"})
    page = web.get(f"/entries/{entry.id}/edit/").content.decode()
    assert "old-secret" not in page
    form = {"title": "Bank (new)", "username": "alice", "secret": "", "status": "active", "version": entry.version}
    assert web.post(f"/entries/{entry.id}/edit/", form).status_code == 302
    revealed = web.post(f"/entries/{entry.id}/reveal/")
    assert "old-secret" in revealed.content.decode()
    assert revealed["Cache-Control"] == "no-store"


def test_an_edit_from_an_old_version_shows_both_and_overwrites_nothing(web: Client, alice: User) -> None:
    entry = note(alice, "Packing", content="passport")
    services.update_entry(actor=alice, entry_id=entry.id, changes={"content": "passport\ncharger"})
    mine = {"title": "Packing", "content": "passport\r\nsunscreen", "status": "active", "version": 1}
    response = web.post(f"/entries/{entry.id}/edit/", mine)
    assert response.status_code == 409
    html = response.content.decode()
    assert 'class="del">charger' in html
    assert 'class="add">sunscreen' in html
    assert 'name="version" value="2"' in html
    entry.refresh_from_db()
    assert (entry.content, entry.version) == ("passport\ncharger", 2)
    review = web.post(f"/entries/{entry.id}/edit/", {**mine, "version": 2, "choice": "review"})
    assert review.status_code == 200
    assert "sunscreen" in review.content.decode()
    entry.refresh_from_db()
    assert entry.version == 2
    assert web.post(f"/entries/{entry.id}/edit/", {**mine, "version": 2}).status_code == 302
    entry.refresh_from_db()
    assert (entry.content, entry.version) == ("passport\nsunscreen", 3)


def test_showing_a_password_and_a_code_is_logged_by_name_only(web: Client, alice: User) -> None:
    entry = services.create_entry(
        actor=alice, type="password", title="Bank", fields={"secret": "pa55", "totp_seed": SEED}
    )
    before = time.time()
    response = web.post(f"/entries/{entry.id}/totp/")
    after = time.time()
    code = re.search(r'class="code"[^>]*>(\d{6})<', response.content.decode())
    assert code is not None
    assert code.group(1) in {code_at(SEED, before), code_at(SEED, after)}
    assert response["Cache-Control"] == "no-store"
    logged = ActivityLog.objects.filter(owner_id=alice.id, action=Action.VIEW, target_id=str(entry.id))
    assert logged.count() == 1
    assert "pa55" not in str(logged.get().metadata)
    assert SEED not in str(logged.get().metadata)


def test_a_sensitive_note_stays_sealed_until_shown(web: Client, alice: User) -> None:
    entry = note(alice, "Diary", content="my **secret** plan", is_sensitive=True)
    page = web.get(f"/entries/{entry.id}/").content.decode()
    assert "secret" not in page.split("</h1>", 1)[1].split("Files")[0].replace("Sealed", "")
    shown = web.post(f"/entries/{entry.id}/reveal/", {"what": "body"}).content.decode()
    assert "<strong>secret</strong>" in shown


def test_markdown_is_rendered_and_html_in_it_escaped(web: Client, alice: User) -> None:
    entry = note(alice, content="**bold** <script>alert(1)</script> [x](javascript:alert(1))")
    html = web.get(f"/entries/{entry.id}/").content.decode()
    assert "<strong>bold</strong>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    preview = web.post("/entries/preview/", {"content": "# Title"}).content.decode()
    assert "<h1>Title</h1>" in preview


def test_the_list_filters_and_stays_within_its_queries(
    web: Client, alice: User, django_assert_max_num_queries: Any
) -> None:
    work = Category.objects.get(owner=alice, name="Work")
    for n in range(45):
        note(alice, f"Note {n}", tags=["odd"] if n % 2 else ["even"], category=work.id if n < 5 else None)
    with django_assert_max_num_queries(25):
        first = web.get("/entries/")
    assert first.content.decode().count('class="entry-row') == 40
    assert "?page=2" in first.content.decode()
    more = web.get("/entries/?page=2", HTTP_HX_REQUEST="true")
    assert more.content.decode().count('class="entry-row') == 5
    assert "<html" not in more.content.decode()
    assert web.get(f"/entries/?category={work.id}").content.decode().count('class="entry-row') == 5
    assert web.get("/entries/?tag=odd").content.decode().count('class="entry-row') == 22
    assert web.get("/entries/?type=nonsense&sort=nonsense").status_code == 200  # a bad filter is ignored


def test_bulk_tag_move_archive_and_refusals(web: Client, alice: User, bob: User) -> None:
    ours = [note(alice, f"N{n}") for n in range(3)]
    ids = [str(entry.id) for entry in ours]
    home = Category.objects.get(owner=alice, name="Home")
    web.post("/entries/bulk/", {"action": "tag", "ids": ids, "tags": "greek, letters"})
    assert Tag.objects.get(owner=alice, name="greek").usage_count == 3
    web.post("/entries/bulk/", {"action": "move", "ids": ids[:2], "category": str(home.id)})
    assert Entry.objects.filter(category=home).count() == 2
    web.post("/entries/bulk/", {"action": "archive", "ids": ids[:1]})
    assert Entry.objects.get(id=ids[0]).status == Status.ARCHIVED
    theirs = note(bob)
    refused = web.post("/entries/bulk/", {"action": "trash", "ids": [ids[1], str(theirs.id)]}, follow=True)
    assert "No such entries" in refused.content.decode()
    assert Entry.objects.get(id=ids[1]).status == Status.ACTIVE
    nothing = web.post("/entries/bulk/", {"action": "trash"}, follow=True)
    assert "Select some entries first." in nothing.content.decode()


def test_tick_a_task_done_from_the_list(web: Client, alice: User) -> None:
    task = services.create_entry(actor=alice, type="task", title="Water plants")
    row = web.post(f"/entries/{task.id}/done/", {"is_done": "1"}, HTTP_HX_REQUEST="true")
    assert 'class="entry-row done"' in row.content.decode()
    task.refresh_from_db()
    assert task.fields["is_done"] is True
    assert task.fields["done_at"]


def test_trash_restore_and_empty(web: Client, alice: User, bob: User) -> None:
    kept, gone = note(alice, "Kept"), note(alice, "Gone")
    theirs = note(bob, "Theirs")
    services.set_status(actor=bob, entry_id=theirs.id, status=Status.DELETED)
    for entry in (kept, gone):
        web.post(f"/entries/{entry.id}/status/", {"status": "deleted"})
    assert "Kept" in web.get("/trash/").content.decode()
    assert "Theirs" not in web.get("/trash/").content.decode()
    web.post(f"/entries/{kept.id}/status/", {"status": "active", "next": "/trash/"})
    response = web.post("/trash/empty/", follow=True)
    assert "1 entry deleted for good" in response.content.decode()
    assert Entry.objects.filter(id=kept.id, status=Status.ACTIVE).exists()
    assert not Entry.objects.filter(id=gone.id).exists()
    assert Entry.objects.filter(id=theirs.id).exists()


def test_history_shows_what_changed_but_never_a_secret(web: Client, alice: User) -> None:
    entry = services.create_entry(actor=alice, type="password", title="Bank", fields={"secret": "first-secret"})
    services.update_entry(actor=alice, entry_id=entry.id, changes={"title": "Bank 2", "fields": {"secret": "second"}})
    html = web.get(f"/entries/{entry.id}/history/").content.decode()
    assert "Bank 2" in html
    assert "changed" in html
    assert "first-secret" not in html
    assert "second" not in html
    restored = web.post(f"/entries/{entry.id}/history/1/restore/", {"version": 2}, follow=True)
    assert "Version 1 is back, as version 3." in restored.content.decode()
    entry.refresh_from_db()
    assert entry.title == "Bank"
    assert EntryVersion.objects.filter(entry=entry).count() == 2


def test_activity_page_says_what_happened(web: Client, alice: User) -> None:
    entry = services.create_entry(actor=alice, type="password", title="Bank", fields={"secret": "x"})
    web.post(f"/entries/{entry.id}/reveal/")
    Client().post("/accounts/login/", {"email": alice.email, "password": "wrong"})
    everything = web.get("/activity/").content.decode()
    assert "Showed the secrets of" in everything
    assert "A sign-in failed" in everything
    assert "Signed in from a browser" in everything
    sign_ins = web.get("/activity/?show=signins").content.decode()
    assert "Showed the secrets" not in sign_ins


def _png() -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(data, format="PNG")
    return data.getvalue()


def test_upload_list_and_delete_files(web: Client, alice: User, bob: User) -> None:
    entry = services.create_entry(actor=alice, type="document", title="Scans")
    upload = io.BytesIO(_png())
    upload.name = "red.png"
    created = web.post(f"/entries/{entry.id}/files/upload/", {"file": upload}, HTTP_HX_REQUEST="true")
    assert created.status_code == 201
    attachment = entry.attachments.get()
    gallery = web.get(f"/entries/{entry.id}/files/").content.decode()
    assert "red.png" in gallery
    empty = io.BytesIO(b"")
    empty.name = "empty.txt"
    refused = web.post(f"/entries/{entry.id}/files/upload/", {"file": empty}, HTTP_HX_REQUEST="true")
    assert (refused.status_code, refused.content) == (400, b"The file is empty.")
    download = web.get(f"/entries/{entry.id}/files/{attachment.id}/download/?inline=1")
    assert download.status_code == 302
    assert ActivityLog.objects.filter(target_type="attachment", target_id=str(attachment.id)).count() == 1
    assert signed_in(bob).get(f"/entries/{entry.id}/files/{attachment.id}/download/").status_code == 404
    web.post(f"/entries/{entry.id}/files/{attachment.id}/delete/", HTTP_HX_REQUEST="true")
    assert not entry.attachments.exists()


def test_an_upload_without_the_csrf_token_is_refused(alice: User) -> None:
    entry = services.create_entry(actor=alice, type="document", title="Scans")
    client = signed_in(alice)
    client.handler.enforce_csrf_checks = True
    upload = io.BytesIO(_png())
    upload.name = "red.png"
    assert client.post(f"/entries/{entry.id}/files/upload/", {"file": upload}).status_code == 403
    assert not entry.attachments.exists()


def test_home_shows_counts_recent_entries_due_tasks_and_storage(web: Client, alice: User) -> None:
    note(alice, "Recent thought")
    soon = (timezone.now() + timezone.timedelta(days=2)).isoformat()
    services.create_entry(actor=alice, type="task", title="Due soon", fields={"due_at": soon})
    html = web.get("/").content.decode()
    assert "Recent thought" in html
    assert "Due soon" in html
    assert "of 1.0 GB" in html
    assert re.search(r'class="n">1</span><span class="label">.*?Notes', html, re.S)


def test_home_and_an_entry_page_stay_within_their_queries(
    web: Client, alice: User, django_assert_max_num_queries: Any
) -> None:
    for n in range(30):
        note(alice, f"Note {n}", tags=[f"tag{n % 5}"])
    entry = services.create_entry(actor=alice, type="password", title="Bank", fields={"secret": "s", "totp_seed": SEED})
    web.get("/")  # the cache fills
    with django_assert_max_num_queries(12):
        assert web.get("/").status_code == 200
    with django_assert_max_num_queries(14):
        assert web.get(f"/entries/{entry.id}/").status_code == 200
    with django_assert_max_num_queries(15):
        assert web.get("/search/suggest/", {"q": "note"}).status_code == 200


def test_someone_an_entry_is_shared_with_edits_it_but_not_its_category(alice: User, bob: User) -> None:
    from sharing import services as sharing

    work = Category.objects.get(owner=alice, name="Work")
    entry = note(alice, "Plan", content="v1", category=work.id)
    sharing.create_share(actor=alice, entry_id=entry.id, grantee="bob", permission="write")
    friend = signed_in(bob)
    form = friend.get(f"/entries/{entry.id}/edit/").content.decode()
    assert 'name="category"' not in form
    saved = friend.post(
        f"/entries/{entry.id}/edit/", {"title": "Plan", "content": "v2", "status": "active", "version": 1}
    )
    assert saved.status_code == 302
    entry.refresh_from_db()
    assert (entry.content, entry.category_id) == ("v2", work.id)
    owner = signed_in(alice).get("/activity/?show=changes").content.decode()
    assert "by bob" in owner


def test_file_downloads_show_in_the_activity(web: Client, alice: User) -> None:
    entry = services.create_entry(actor=alice, type="document", title="Scans")
    upload = io.BytesIO(_png())
    upload.name = "red.png"
    web.post(f"/entries/{entry.id}/files/upload/", {"file": upload}, HTTP_HX_REQUEST="true")
    attachment = entry.attachments.get()
    web.get(f"/entries/{entry.id}/files/{attachment.id}/download/")
    assert "Downloaded a file of" in web.get("/activity/?show=reveals").content.decode()
