"""The shares API: share with a person or make a link, list, change, revoke; and every bad input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from entries.models import Change
from sharing.models import Share
from sharing.tests.conftest import client_for

pytestmark = pytest.mark.django_db
MakeEntry = Callable[..., dict[str, Any]]
MakeShare = Callable[..., dict[str, Any]]
SOON = (timezone.now() + timedelta(days=7)).isoformat()


def test_sharing_with_a_person_by_email_or_username(alice: User, bob: User, carol: User, make_entry: MakeEntry) -> None:
    entry = make_entry(alice, title="Accounts 2025")
    api = client_for(alice)
    by_email = api.post("/api/v1/shares/", {"entry": entry["id"], "grantee": "BOB@example.com",
                                            "permission": "write", "expires_at": SOON}, format="json")  # fmt: skip
    assert by_email.status_code == 201, by_email.content
    body = by_email.json()
    assert body["kind"] == "user"
    assert (body["grantee"]["username"], body["permission"], body["state"]) == ("bob", "write", "live")
    assert body["entry"] == {"id": entry["id"], "type": "note", "title": "Accounts 2025"}
    assert (body["token"], body["url"]) == (None, None)
    by_username = api.post("/api/v1/shares/", {"entry": entry["id"], "grantee": "Carol"}, format="json")
    assert by_username.status_code == 201
    assert by_username.json()["permission"] == "read"
    assert by_username["Cache-Control"] == "no-store"


def test_a_link_shows_its_token_once_and_never_stores_it(alice: User, make_entry: MakeEntry) -> None:
    entry = make_entry(alice, title="Guest wifi")
    response = client_for(alice).post(
        "/api/v1/shares/", {"entry": entry["id"], "link": True, "max_access_count": 5, "passphrase": "open sesame",
                            "expires_at": SOON}, format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    token = body["token"]
    assert token.startswith("pps_")
    assert len(token) >= 4 + 43
    assert body["url"].endswith(f"/s/{token}")
    assert (body["kind"], body["has_passphrase"], body["max_access_count"]) == ("link", True, 5)
    assert "passphrase" not in body
    # Nowhere in the database: not the share row, not the log.
    share = Share.objects.get(id=body["id"])
    row = Share.objects.filter(id=share.id).values().get()
    assert token not in str(row)
    assert "open sesame" not in str(row)
    assert share.token_hash != token
    assert len(share.token_hash) == 64
    assert share.passphrase_hash.startswith(("argon2", "md5", "pbkdf2"))
    assert token not in str(list(ActivityLog.objects.values()))
    # Not readable afterwards either.
    again = client_for(alice).get(f"/api/v1/shares/{share.id}/").json()
    assert "token" not in again
    assert again["token_prefix"] == token[:8]


def test_no_table_holds_a_links_token_or_passphrase(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    from django.db import connection

    link = share(alice, make_entry(alice)["id"], link=True, passphrase="lantern maple", is_reveal_allowed=True)
    assert (
        APIClient().get(f"/api/v1/links/{link['token']}/", {"passphrase": "lantern maple"}, REMOTE_ADDR=ip).status_code
        == 200
    )
    secret_part = link["token"][len("pps_") + 4 :]  # beyond the prefix the owner is shown
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        for table in tables:
            cursor.execute(
                f"SELECT count(*) FROM {connection.ops.quote_name(table)} AS t "  # noqa: S608 - names from the catalogue
                "WHERE t::text LIKE %s OR t::text LIKE %s",
                [f"%{secret_part}%", "%lantern maple%"],
            )
            assert cursor.fetchone() == (0,), table


def test_creating_changing_and_revoking_are_logged_for_the_owner_and_heard_by_the_grantee(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice)
    created = share(alice, entry["id"], grantee="bob")
    api = client_for(alice)
    changed = api.patch(f"/api/v1/shares/{created['id']}/", {"permission": "write", "expires_at": SOON}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["permission"] == "write"
    assert api.delete(f"/api/v1/shares/{created['id']}/").status_code == 204
    assert api.delete(f"/api/v1/shares/{created['id']}/").status_code == 204  # again: nothing more happens

    actions = [row["action"] for row in api.get("/api/v1/activity/", {"target_id": entry["id"]}).json()["results"]]
    assert actions == ["unshare", "share", "share", "create"]
    logged = ActivityLog.objects.filter(action="share").order_by("created_at").last()
    assert logged is not None
    assert logged.metadata["changed"] == ["expires_at", "permission"]
    feed = list(Change.objects.filter(user=bob).order_by("seq").values_list("operation", "entry_id"))
    assert [op for op, _ in feed] == ["share", "share", "unshare"]
    assert {str(entry_id) for _, entry_id in feed} == {entry["id"]}
    assert not Change.objects.filter(user=alice).exclude(operation="create").exists()  # her view did not change
    bob.refresh_from_db()
    assert bob.change_seq == 3


def test_an_admin_grantee_can_share_further_and_a_write_grantee_cannot(
    alice: User, bob: User, carol: User, dave: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice, title="Family documents")
    share(alice, entry["id"], grantee="bob", permission="admin")
    share(alice, entry["id"], grantee="dave", permission="write")
    further = client_for(bob).post("/api/v1/shares/", {"entry": entry["id"], "grantee": "carol"}, format="json")
    assert further.status_code == 201, further.content
    assert further.json()["created_by"]["username"] == "bob"
    assert client_for(carol).get(f"/api/v1/entries/{entry['id']}/").status_code == 200
    refused = client_for(dave).post("/api/v1/shares/", {"entry": entry["id"], "grantee": "carol"}, format="json")
    assert refused.status_code == 403
    link = client_for(dave).post("/api/v1/shares/", {"entry": entry["id"], "link": True}, format="json")
    assert link.status_code == 403
    # Managing: the admin sees every share of the entry and may revoke one; the write grantee may not look.
    listed = client_for(bob).get(f"/api/v1/entries/{entry['id']}/shares/").json()["results"]
    assert {row["grantee"]["username"] for row in listed} == {"bob", "dave", "carol"}
    assert client_for(dave).get(f"/api/v1/entries/{entry['id']}/shares/").status_code == 403
    carols = next(row["id"] for row in listed if row["grantee"]["username"] == "carol")
    assert client_for(dave).delete(f"/api/v1/shares/{carols}/").status_code == 403
    assert client_for(dave).get(f"/api/v1/shares/{carols}/").status_code == 403
    assert client_for(bob).delete(f"/api/v1/shares/{carols}/").status_code == 204
    # The log is the owner's, with the admin as actor.
    logged = ActivityLog.objects.filter(action="unshare").get()
    assert (logged.owner_id, logged.actor_id) == (alice.id, bob.id)


def test_an_admin_whose_share_is_revoked_can_no_longer_share(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice)
    admin = share(alice, entry["id"], grantee="bob", permission="admin")
    client_for(alice).delete(f"/api/v1/shares/{admin['id']}/")
    response = client_for(bob).post("/api/v1/shares/", {"entry": entry["id"], "link": True}, format="json")
    assert response.status_code == 404


def test_a_grantee_may_leave_a_share_but_not_change_it(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice)
    created = share(alice, entry["id"], grantee="bob", permission="admin")
    bob_api = client_for(bob)
    assert bob_api.get(f"/api/v1/shares/{created['id']}/").status_code == 200
    assert bob_api.patch(f"/api/v1/shares/{created['id']}/", {"expires_at": None}, format="json").status_code == 403
    assert bob_api.delete(f"/api/v1/shares/{created['id']}/").status_code == 204
    assert bob_api.get(f"/api/v1/entries/{entry['id']}/").status_code == 404
    assert ActivityLog.objects.get(action="unshare").metadata["by_grantee"] is True


def test_the_list_shows_the_shares_one_manages_filtered_by_state_and_kind(
    alice: User, bob: User, carol: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    first, second = make_entry(alice, title="one"), make_entry(alice, title="two")
    share(alice, first["id"], grantee="bob")
    ended = share(alice, second["id"], grantee="carol")
    share(alice, second["id"], link=True)
    make_entry(bob, title="bob's")
    client_for(alice).delete(f"/api/v1/shares/{ended['id']}/")
    api = client_for(alice)
    assert len(api.get("/api/v1/shares/").json()["results"]) == 3
    assert len(api.get("/api/v1/shares/", {"state": "live"}).json()["results"]) == 2
    assert [row["id"] for row in api.get("/api/v1/shares/", {"state": "revoked"}).json()["results"]] == [ended["id"]]
    assert [row["kind"] for row in api.get("/api/v1/shares/", {"kind": "link"}).json()["results"]] == ["link"]
    assert len(api.get("/api/v1/shares/", {"entry": second["id"]}).json()["results"]) == 2
    # Bob holds a share; he manages none.
    assert client_for(bob).get("/api/v1/shares/").json()["results"] == []
    assert api.get("/api/v1/shares/", {"state": "gone"}).json()["error"]["fields"].keys() == {"state"}


def test_shared_with_me_is_filterable_like_the_entry_list(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    note = make_entry(alice, title="Recipe", tags=["food"])
    task = make_entry(alice, type="task", title="Call plumber")
    share(alice, note["id"], grantee="bob", permission="write")
    share(alice, task["id"], grantee="bob")
    make_entry(bob, title="Bob's own")
    api = client_for(bob)
    rows = api.get("/api/v1/shared-with-me/").json()["results"]
    assert {row["title"] for row in rows} == {"Recipe", "Call plumber"}
    recipe = next(row for row in rows if row["title"] == "Recipe")
    assert recipe["owner"] == {"id": str(alice.id), "username": "alice"}
    assert recipe["permission"] == "write"
    assert recipe["tags"] == ["food"]
    assert [row["title"] for row in api.get("/api/v1/shared-with-me/", {"type": "task"}).json()["results"]] == [
        "Call plumber"
    ]
    assert [row["title"] for row in api.get("/api/v1/shared-with-me/", {"tags": "food"}).json()["results"]] == [
        "Recipe"
    ]
    one = api.get(f"/api/v1/shared-with-me/{note['id']}/").json()
    assert (one["title"], one["permission"], one["owner"]["username"]) == ("Recipe", "write", "alice")
    assert api.get("/api/v1/shared-with-me/", {"type": "poem"}).json()["error"]["fields"].keys() == {"type"}
    assert client_for(alice).get(f"/api/v1/shared-with-me/{note['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"grantee": "nobody@example.com"}, "grantee"),
        ({"grantee": "nobody"}, "grantee"),
        ({"grantee": "alice"}, "grantee"),  # oneself
        ({"grantee": "bob", "permission": "owner"}, "permission"),
        ({"grantee": "bob", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"grantee": "bob", "expires_at": "next week"}, "expires_at"),
        ({}, "grantee"),
        ({"grantee": "bob", "link": True}, "grantee"),
        ({"link": True, "permission": "write"}, "permission"),
        ({"link": True, "max_access_count": 0}, "max_access_count"),
        ({"link": True, "passphrase": "abc"}, "passphrase"),
        ({"grantee": "bob", "max_access_count": 3}, "max_access_count"),
        ({"grantee": "bob", "passphrase": "secret words"}, "passphrase"),
        ({"grantee": "bob", "is_reveal_allowed": True}, "is_reveal_allowed"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    alice: User, bob: User, make_entry: MakeEntry, body: dict[str, Any], field: str
) -> None:
    entry = make_entry(alice)
    response = client_for(alice).post("/api/v1/shares/", {"entry": entry["id"], **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Share.objects.exists()
    assert not Change.objects.filter(user=bob).exists()


def test_sharing_twice_with_one_person_is_refused(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice)
    share(alice, entry["id"], grantee="bob")
    again = client_for(alice).post("/api/v1/shares/", {"entry": entry["id"], "grantee": "bob"}, format="json")
    assert again.status_code == 400
    assert "grantee" in again.json()["error"]["fields"]


def test_the_owner_cannot_be_a_grantee(alice: User, bob: User, make_entry: MakeEntry, share: MakeShare) -> None:
    entry = make_entry(alice)
    share(alice, entry["id"], grantee="bob", permission="admin")
    response = client_for(bob).post("/api/v1/shares/", {"entry": entry["id"], "grantee": "alice"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["grantee"] == ["This is the entry's owner."]


def test_sharing_an_entry_one_cannot_see_is_a_404(alice: User, bob: User, make_entry: MakeEntry) -> None:
    entry = make_entry(alice)
    for entry_id in (entry["id"], "00000000-0000-7000-8000-000000000000"):
        response = client_for(bob).post("/api/v1/shares/", {"entry": entry_id, "grantee": "alice"}, format="json")
        assert response.status_code == 404
    bad = client_for(bob).post("/api/v1/shares/", {"entry": "not-an-id", "grantee": "alice"}, format="json")
    assert bad.status_code == 400
    assert "entry" in bad.json()["error"]["fields"]


def test_sharing_an_entry_one_may_only_read_or_write_is_a_403(
    alice: User, bob: User, carol: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice)
    share(alice, entry["id"], grantee="bob", permission="write")
    response = client_for(bob).post("/api/v1/shares/", {"entry": entry["id"], "grantee": "nobody"}, format="json")
    assert response.status_code == 403  # before looking the grantee up: nothing learned about users


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"permission": "boss"}, "permission"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"max_access_count": 3}, "max_access_count"),
        ({"passphrase": "abcd"}, "passphrase"),
        ({"grantee": "carol"}, "grantee"),
    ],
)
def test_bad_changes_are_400s_naming_the_field(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare, change: dict[str, Any], field: str
) -> None:
    created = share(alice, make_entry(alice)["id"], grantee="bob")
    response = client_for(alice).patch(f"/api/v1/shares/{created['id']}/", change, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert Share.objects.get(id=created["id"]).permission == "read"


def test_link_changes_and_their_limits(alice: User, make_entry: MakeEntry, share: MakeShare) -> None:
    created = share(alice, make_entry(alice)["id"], link=True, max_access_count=2)
    Share.objects.filter(id=created["id"]).update(access_count=2)
    api, url = client_for(alice), f"/api/v1/shares/{created['id']}/"
    assert api.get(url).json()["state"] == "exhausted"
    assert api.patch(url, {"permission": "write"}, format="json").status_code == 400
    assert api.patch(url, {"max_access_count": 1}, format="json").json()["error"]["fields"].keys() == {
        "max_access_count"
    }
    raised = api.patch(
        url, {"max_access_count": 10, "passphrase": "new words", "is_reveal_allowed": True}, format="json"
    )
    assert raised.status_code == 200, raised.content
    assert (raised.json()["state"], raised.json()["has_passphrase"], raised.json()["is_reveal_allowed"]) == (
        "live", True, True,
    )  # fmt: skip
    assert api.patch(url, {"passphrase": ""}, format="json").json()["has_passphrase"] is False
    assert api.patch(url, {}, format="json").status_code == 400


def test_an_ended_share_cannot_be_changed(alice: User, make_entry: MakeEntry, share: MakeShare) -> None:
    created = share(alice, make_entry(alice)["id"], link=True)
    client_for(alice).delete(f"/api/v1/shares/{created['id']}/")
    response = client_for(alice).patch(f"/api/v1/shares/{created['id']}/", {"expires_at": SOON}, format="json")
    assert response.status_code == 400
    assert "ended" in response.json()["error"]["message"]


def test_other_peoples_shares_are_not_found(
    alice: User, bob: User, carol: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    created = share(alice, make_entry(alice)["id"], grantee="bob")
    carol_api = client_for(carol)
    assert carol_api.get(f"/api/v1/shares/{created['id']}/").status_code == 404
    assert (
        carol_api.patch(f"/api/v1/shares/{created['id']}/", {"permission": "write"}, format="json").status_code == 404
    )
    assert carol_api.delete(f"/api/v1/shares/{created['id']}/").status_code == 404
    assert carol_api.get(f"/api/v1/entries/{created['entry']['id']}/shares/").status_code == 404
    assert Share.objects.get(id=created["id"]).revoked_at is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/shares/"),
        ("post", "/api/v1/shares/"),
        ("get", "/api/v1/shares/00000000-0000-7000-8000-000000000000/"),
        ("patch", "/api/v1/shares/00000000-0000-7000-8000-000000000000/"),
        ("delete", "/api/v1/shares/00000000-0000-7000-8000-000000000000/"),
        ("get", "/api/v1/entries/00000000-0000-7000-8000-000000000000/shares/"),
        ("get", "/api/v1/shared-with-me/"),
        ("get", "/api/v1/shared-with-me/00000000-0000-7000-8000-000000000000/"),
    ],
)
def test_signed_out_is_401(method: str, path: str) -> None:
    assert getattr(APIClient(), method)(path).status_code == 401


def test_list_endpoints_take_a_bounded_number_of_queries(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare, django_assert_max_num_queries: Any
) -> None:
    for n in range(12):
        entry = make_entry(alice, title=f"e{n}", tags=["t"])
        share(alice, entry["id"], grantee="bob", permission="write" if n % 2 else "read")
        share(alice, entry["id"], link=True)
    alice_api, bob_api = client_for(alice), client_for(bob)
    with django_assert_max_num_queries(2):
        assert len(alice_api.get("/api/v1/shares/").json()["results"]) == 24
    with django_assert_max_num_queries(3):
        assert len(alice_api.get(f"/api/v1/entries/{entry['id']}/shares/").json()["results"]) == 2
    with django_assert_max_num_queries(3):
        assert len(bob_api.get("/api/v1/shared-with-me/").json()["results"]) == 12
    with django_assert_max_num_queries(3):
        assert len(bob_api.get("/api/v1/entries/").json()["results"]) == 12
