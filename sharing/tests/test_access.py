"""What each permission lets a grantee do, enforced in every read path and every write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import ActivityLog, User
from entries.models import Change, Entry
from sharing.models import Share
from sharing.tests.conftest import client_for

pytestmark = pytest.mark.django_db
MakeEntry = Callable[..., dict[str, Any]]
MakeShare = Callable[..., dict[str, Any]]


def test_grantee_with_read_permission_sees_but_cannot_edit(
    alice: User, bob: User, carol: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice, title="Wifi at home", content="ask for the router")
    share(alice, entry["id"], grantee="bob@example.com", permission="read")
    bob_api, url = client_for(bob), f"/api/v1/entries/{entry['id']}/"

    seen = bob_api.get(url)
    assert seen.status_code == 200
    assert (seen.json()["title"], seen.json()["content"]) == ("Wifi at home", "ask for the router")
    for call in (
        lambda: bob_api.patch(url, {"title": "mine now"}, format="json", HTTP_IF_MATCH='"1"'),
        lambda: bob_api.patch(url, {"title": "mine now"}, format="json"),  # 403 before asking for If-Match
        lambda: bob_api.put(url, {"type": "note", "title": "x"}, format="json", HTTP_IF_MATCH='"1"'),
        lambda: bob_api.delete(url),
        lambda: bob_api.post(f"{url}archive/"),
        lambda: bob_api.post(f"{url}restore/", {"version": 1}, format="json"),
    ):
        response = call()
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
    # Someone it is not shared with is told it does not exist, for reads and writes alike.
    carol_api = client_for(carol)
    assert carol_api.get(url).status_code == 404
    assert carol_api.patch(url, {"title": "x"}, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    stored = Entry.objects.get(id=entry["id"])
    assert (stored.title, stored.version, stored.status) == ("Wifi at home", 1, "active")


def test_read_grantee_may_reveal_a_password_and_the_owner_sees_who(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice, type="password", title="Router", fields={"username": "admin", "secret": "hunter22"})
    share(alice, entry["id"], grantee="bob", permission="read")
    listed = client_for(bob).get(f"/api/v1/entries/{entry['id']}/").json()
    assert "hunter22" not in str(listed)
    revealed = client_for(bob).post(f"/api/v1/entries/{entry['id']}/reveal/")
    assert revealed.status_code == 200
    assert revealed.json()["secrets"]["secret"] == "hunter22"
    view = ActivityLog.objects.get(action="view", owner_id=alice.id)
    assert view.actor_id == bob.id
    assert "hunter22" not in str(view.metadata)


def test_grantee_with_write_permission_edits_and_the_owner_sees_it_in_history(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice, title="Shopping", content="milk", tags=["home"])
    share(alice, entry["id"], grantee="bob", permission="write")
    url = f"/api/v1/entries/{entry['id']}/"
    bob_api = client_for(bob)
    # The same concurrency rules as the owner: If-Match is required, and a stale one is refused.
    assert bob_api.patch(url, {"content": "x"}, format="json").status_code == 428
    edited = bob_api.patch(
        url, {"content": "milk, eggs", "tags": ["home", "weekly"]}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert edited.status_code == 200, edited.content
    assert (edited.json()["version"], edited.json()["tags"]) == (2, ["home", "weekly"])
    assert bob_api.patch(url, {"content": "stale"}, format="json", HTTP_IF_MATCH='"1"').status_code == 412

    history = client_for(alice).get(f"{url}history/").json()["results"]
    assert [(row["version"], row["actor_id"]) for row in history] == [(1, str(bob.id))]
    assert client_for(alice).get(url).json()["content"] == "milk, eggs"
    update = ActivityLog.objects.get(action="update", owner_id=alice.id)
    assert update.actor_id == bob.id
    # The tags are the owner's (tags are per owner), and both feeds heard of the change.
    assert set(alice.tags.values_list("name", flat=True)) >= {"home", "weekly"}
    assert not bob.tags.filter(name="weekly").exists()
    restored = bob_api.post(f"{url}restore/", {"version": 1}, format="json")  # undo, as the owner could
    assert (restored.status_code, restored.json()["content"], restored.json()["version"]) == (200, "milk", 3)
    assert Change.objects.filter(user=alice, entry_id=entry["id"], operation="update").count() == 2
    assert Change.objects.filter(user=bob, entry_id=entry["id"], operation="update").count() == 2


def test_only_the_owner_deletes_forever(alice: User, bob: User, make_entry: MakeEntry, share: MakeShare) -> None:
    entry = make_entry(alice)
    share(alice, entry["id"], grantee="bob", permission="admin")
    url = f"/api/v1/entries/{entry['id']}/"
    assert client_for(bob).delete(f"{url}?forever=1").status_code == 403
    assert Entry.objects.filter(id=entry["id"]).exists()
    # A write grantee may move it to the trash (the owner can take it out again).
    assert client_for(bob).delete(url).status_code == 204
    assert client_for(alice).post(f"{url}restore/").status_code == 200
    assert client_for(alice).delete(f"{url}?forever=1").status_code == 204


def test_a_grantee_completing_a_shared_recurring_task_makes_the_next_one_for_the_owner(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    task = make_entry(
        alice, type="task", title="Water plants", fields={"due_at": "2030-01-01T09:00:00Z", "recurrence": "weekly"}
    )
    share(alice, task["id"], grantee="bob", permission="write")
    done = client_for(bob).patch(
        f"/api/v1/entries/{task['id']}/", {"fields": {"is_done": True}}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert done.status_code == 200, done.content
    following = Entry.objects.get(id=done.json()["fields"]["next_occurrence_id"])
    assert following.owner_id == alice.id


def test_revocation_takes_effect_on_the_next_request(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice, title="Holiday plans")
    created = share(alice, entry["id"], grantee="bob", permission="write")
    bob_api, url = client_for(bob), f"/api/v1/entries/{entry['id']}/"
    assert bob_api.get(url).status_code == 200
    assert client_for(alice).delete(f"/api/v1/shares/{created['id']}/").status_code == 204
    assert bob_api.get(url).status_code == 404
    assert bob_api.patch(url, {"title": "x"}, format="json", HTTP_IF_MATCH='"1"').status_code == 404
    assert bob_api.get("/api/v1/entries/").json()["results"] == []
    assert bob_api.get("/api/v1/search/", {"q": "holiday"}).json()["results"] == []


def test_expiry_takes_effect_at_its_instant_without_any_job(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice, title="Holiday plans")
    created = share(alice, entry["id"], grantee="bob", expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    bob_api, url = client_for(bob), f"/api/v1/entries/{entry['id']}/"
    assert bob_api.get(url).status_code == 200
    assert bob_api.get("/api/v1/search/", {"q": "holiday"}).json()["count"] == 1
    # The hour passes (moved in the database: no job runs, nothing else changes).
    Share.objects.filter(id=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bob_api.get(url).status_code == 404
    assert bob_api.get("/api/v1/entries/").json()["results"] == []
    assert bob_api.get("/api/v1/shared-with-me/").json()["results"] == []
    assert bob_api.get("/api/v1/search/", {"q": "holiday"}).json()["results"] == []
    assert bob_api.post(f"{url}reveal/").status_code == 404
    assert bob_api.get(f"{url}history/").status_code == 404


def test_an_entry_shared_with_bob_is_in_his_list_and_search_and_nobody_elses(
    alice: User, bob: User, carol: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    shared = make_entry(alice, title="Lisbon apartment wifi", content="password on the fridge")
    make_entry(alice, title="Lisbon private diary")
    make_entry(carol, title="Lisbon trip of carol's")
    share(alice, shared["id"], grantee="bob")

    def titles(user: User, path: str, **params: Any) -> set[str]:
        return {row["title"] for row in client_for(user).get(path, params).json()["results"]}

    assert titles(bob, "/api/v1/entries/") == {"Lisbon apartment wifi"}
    assert titles(bob, "/api/v1/search/", q="lisbon") == {"Lisbon apartment wifi"}
    assert titles(bob, "/api/v1/search/", q="fridge") == {"Lisbon apartment wifi"}
    assert titles(bob, "/api/v1/search/", q="lisbn") == {"Lisbon apartment wifi"}  # typo: did you mean
    assert titles(bob, "/api/v1/shared-with-me/") == {"Lisbon apartment wifi"}
    assert titles(carol, "/api/v1/entries/") == {"Lisbon trip of carol's"}
    assert titles(carol, "/api/v1/search/", q="lisbon") == {"Lisbon trip of carol's"}
    assert titles(carol, "/api/v1/shared-with-me/") == set()
    assert titles(alice, "/api/v1/search/", q="lisbon") == {"Lisbon apartment wifi", "Lisbon private diary"}


def test_search_results_say_which_entries_are_shared(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare, settings: Any
) -> None:
    from entries import search_cache

    settings.SEARCH_CACHE_MIN_MS = 0  # cache every page: a cached page says it too
    entry = make_entry(alice, title="Porto flat keys")
    make_entry(bob, title="Porto museum list")
    share(alice, entry["id"], grantee="bob")
    bob_api = client_for(bob)

    def shared(q: str, *, cached: bool = False) -> dict[str, bool]:
        body = bob_api.get("/api/v1/search/", {"q": q}).json()
        search_cache.flush()
        assert body["cached"] is cached
        return {row["title"]: row["shared"] for row in body["results"]}

    expected = {"Porto flat keys": True, "Porto museum list": False}
    assert shared("porto") == expected
    assert shared("porto", cached=True) == expected
    assert shared("prto") == expected  # close matches
    assert {row["title"]: row["shared"] for row in client_for(alice).get(
        "/api/v1/search/", {"q": "porto"}).json()["results"]} == {"Porto flat keys": False}  # fmt: skip


def test_a_link_grants_no_one_a_view_in_their_own_vault(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare
) -> None:
    entry = make_entry(alice, title="Shared by link")
    share(alice, entry["id"], link=True)
    assert client_for(bob).get(f"/api/v1/entries/{entry['id']}/").status_code == 404
    assert client_for(bob).get("/api/v1/entries/").json()["results"] == []


def test_a_cached_search_page_forgets_a_result_whose_share_expired(
    alice: User, bob: User, make_entry: MakeEntry, share: MakeShare, settings: Any
) -> None:
    from entries import search_cache

    settings.SEARCH_CACHE_MIN_MS = 0  # cache every page
    entry = make_entry(alice, title="Porto flat keys")
    make_entry(bob, title="Porto museum list")
    created = share(alice, entry["id"], grantee="bob", expires_at=(timezone.now() + timedelta(hours=1)).isoformat())
    bob_api = client_for(bob)
    first = bob_api.get("/api/v1/search/", {"q": "porto"}).json()
    search_cache.flush()
    assert len(first["results"]) == 2
    Share.objects.filter(id=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    again = bob_api.get("/api/v1/search/", {"q": "porto"}).json()
    assert again["cached"] is True
    assert [row["title"] for row in again["results"]] == ["Porto museum list"]
