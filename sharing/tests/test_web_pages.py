"""The sharing pages of the web UI: the share dialog, people autocomplete, shared with me."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from entries import services as entries
from entries.models import Entry
from sharing import services
from sharing.models import Share

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    return client


@pytest.fixture
def note(alice: User) -> Entry:
    return entries.create_entry(actor=alice, type="note", title="Trip budget", content="Flights: 240 EUR")


def test_share_with_a_person_who_then_sees_it(alice: User, bob: User, note: Entry) -> None:
    web = signed_in(alice)
    dialog = web.get(f"/entries/{note.id}/share/").content.decode()
    assert "Not shared with anyone yet." in dialog
    shared = web.post(f"/entries/{note.id}/share/person/", {"grantee": "BOB@example.com", "permission": "write"})
    assert "Shared with bob." in shared.content.decode()
    assert 'class="badge accent">Can edit</span>' in shared.content.decode()  # the dialog's own words
    assert Share.objects.get(entry=note).grantee == bob
    friend = signed_in(bob)
    mine = friend.get("/shared/").content.decode()
    assert "Trip budget" in mine
    assert 'class="badge accent">Can edit</span>' in mine
    assert "Flights: 240 EUR" in friend.get(f"/entries/{note.id}/").content.decode()
    badge = re.compile(r'class="badge accent">[^<]*(<svg.*?</svg>)?\s*shared')
    for path in ("/search/", "/search/suggest/"):  # found, and said to be someone else's
        assert badge.search(friend.get(path, {"q": "budget"}).content.decode())
        assert not badge.search(web.get(path, {"q": "budget"}).content.decode())


def test_share_errors_are_shown_in_the_dialog(alice: User, note: Entry) -> None:
    web = signed_in(alice)
    unknown = web.post(f"/entries/{note.id}/share/person/", {"grantee": "nobody", "permission": "read"})
    assert unknown.status_code == 422
    assert "No user with this e-mail address or username." in unknown.content.decode()
    myself = web.post(f"/entries/{note.id}/share/person/", {"grantee": "alice", "permission": "read"})
    assert "You cannot share with yourself." in myself.content.decode()
    bad_link = web.post(f"/entries/{note.id}/share/link/", {"passphrase": "abc"})
    assert bad_link.status_code == 422
    assert "Must be 4 to 128 characters" in bad_link.content.decode()
    assert not Share.objects.exists()


def test_a_link_is_shown_once_opens_counts_and_stops_when_revoked(alice: User, note: Entry) -> None:
    web = signed_in(alice)
    created = web.post(f"/entries/{note.id}/share/link/", {"max_access_count": "2"})
    assert created["Cache-Control"] == "no-store"
    url = re.search(r'value="(http://testserver/s/pps_[^"]+)"', created.content.decode())
    assert url is not None
    path = url.group(1).removeprefix("http://testserver")
    assert path not in web.get(f"/entries/{note.id}/share/").content.decode()
    assert "Flights: 240 EUR" in Client().get(path).content.decode()
    dialog = web.get(f"/entries/{note.id}/share/").content.decode()
    assert "opened 1 time (limit 2)" in dialog
    share = Share.objects.get(entry=note)
    revoked = web.post(f"/shares/{share.id}/revoke/").content.decode()
    assert "The link no longer opens." in revoked
    assert Client().get(path).status_code == 404
    activity = web.get("/activity/?show=sharing").content.decode()
    assert "A share link was opened" in activity
    assert "Stopped sharing" in activity


def test_people_autocomplete_matches_usernames_and_whole_addresses_only(alice: User, bob: User) -> None:
    UserFactory(email="bobby@example.org", username="bobby")
    web = signed_in(alice)
    by_name = web.get("/sharing/people/", {"grantee": "bo"}).content.decode()
    assert by_name.count("<option") == 2
    assert "example" not in by_name  # addresses are not shown for a partial name
    assert web.get("/sharing/people/", {"grantee": "bob@exa"}).content.decode().count("<option") == 0
    whole = web.get("/sharing/people/", {"grantee": "bob@example.com"}).content.decode()
    assert 'value="bob"' in whole
    assert "<option" not in web.get("/sharing/people/", {"grantee": "al"}).content.decode()  # not yourself


def test_only_managers_see_the_dialog_and_strangers_see_nothing(alice: User, bob: User, note: Entry) -> None:
    carol = UserFactory(email="carol@example.com", username="carol")
    services.create_share(actor=alice, entry_id=note.id, grantee="bob", permission="write")
    writer = signed_in(bob).get(f"/entries/{note.id}/share/")
    assert "Only the entry's owner" in writer.content.decode()
    stranger = signed_in(carol)
    assert stranger.get(f"/entries/{note.id}/share/").status_code == 404
    assert stranger.post(f"/entries/{note.id}/share/link/", {}).status_code == 404
    share = Share.objects.get(entry=note)
    assert stranger.post(f"/shares/{share.id}/revoke/").status_code == 404
    share.refresh_from_db()
    assert share.revoked_at is None


def test_a_grantee_can_leave_a_share(alice: User, bob: User, note: Entry) -> None:
    created = services.create_share(actor=alice, entry_id=note.id, grantee="bob", permission="read")
    friend = signed_in(bob)
    left = friend.post(f"/shares/{created.share.id}/revoke/", follow=True)
    assert "is no longer shared with you" in left.content.decode()
    assert friend.get(f"/entries/{note.id}/").status_code == 404


def open_page(token: str | None, ip: str) -> Any:
    return Client(REMOTE_ADDR=ip).get(f"/s/{token}")


def test_a_link_page_renders_a_notes_markdown_safely(alice: User, ip: str) -> None:
    text = "# Agenda\n\nThe **budget**, see [link](https://example.com).\n\n<script>alert(1)</script>"
    entry = entries.create_entry(actor=alice, type="note", title="Meeting", content=text)
    created = services.create_share(actor=alice, entry_id=entry.id, link=True)
    html = open_page(created.token, ip).content.decode()
    assert "<h1>Agenda</h1>" in html
    assert "<strong>budget</strong>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">link</a>' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "# Agenda" not in html


def test_a_link_page_labels_and_formats_fields_as_the_entry_page_does(alice: User, ip: str) -> None:
    login = entries.create_entry(
        actor=alice, type="password", title="Bank", fields={"username": "al", "url": "https://bank.example.com/"}
    )
    html = open_page(services.create_share(actor=alice, entry_id=login.id, link=True).token, ip).content.decode()
    assert "<dt>Website</dt>" in html
    assert "<dt>Url</dt>" not in html
    contact = entries.create_entry(
        actor=alice, type="contact", title="Sam",
        fields={
            "emails": ["sam@example.com", "sam@work.example"], "phones": ["+351 912 345 678"],
            "addresses": ["1 Rua Augusta\nLisboa", "2 Quay Street"], "birthday": "1990-05-17",
        },
    )  # fmt: skip
    html = open_page(services.create_share(actor=alice, entry_id=contact.id, link=True).token, ip).content.decode()
    for label in ("E-mail", "Phone", "Addresses", "Birthday"):
        assert f"<dt>{label}</dt>" in html
    assert "<dt>Emails</dt>" not in html
    assert '<a href="mailto:sam@example.com">sam@example.com</a><br><a href="mailto:sam@work.example">' in html
    assert "<p>1 Rua Augusta<br>Lisboa</p><p>2 Quay Street</p>" in html
    assert "<dd>17 May 1990</dd>" in html


def test_a_link_that_no_longer_opens_says_why_it_may_not_but_not_which(alice: User, note: Entry, ip: str) -> None:
    used = services.create_share(actor=alice, entry_id=note.id, link=True, max_access_count=1)
    assert open_page(used.token, ip).status_code == 200
    revoked = services.create_share(actor=alice, entry_id=note.id, link=True)
    services.revoke_share(actor=alice, share_id=revoked.share.id)
    expired = services.create_share(actor=alice, entry_id=note.id, link=True)
    Share.objects.filter(id=expired.share.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    pages = [open_page(token, ip) for token in (used.token, revoked.token, expired.token, "pps_" + "A" * 43)]
    assert {page.status_code for page in pages} == {404}
    said = {re.sub(r'"X-CSRFToken": "\w+"', "", page.content.decode()) for page in pages}  # masked per response
    assert len(said) == 1
    assert "it may have expired, reached its open limit, been revoked, or been mistyped" in said.pop()
    elsewhere = Client().get("/no-such-page/").content.decode()
    assert "Not found" in elsewhere
    assert "been revoked" not in elsewhere
