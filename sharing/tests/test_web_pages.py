"""The sharing pages of the web UI: the share dialog, people autocomplete, shared with me."""

from __future__ import annotations

import re

import pytest
from django.test import Client

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
    assert Share.objects.get(entry=note).grantee == bob
    friend = signed_in(bob)
    assert "Trip budget" in friend.get("/shared/").content.decode()
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
