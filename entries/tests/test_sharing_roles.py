"""What an editor of someone else's entry may do: change its words, not its state."""

from __future__ import annotations

import html as html_module
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from entries import services
from entries.models import Entry, Status
from entries.tests.test_web_pages import signed_in
from sharing import services as sharing

pytestmark = pytest.mark.django_db


def _shared(alice: User, bob: User, permission: str) -> Entry:
    entry = services.create_entry(actor=alice, type="task", title="Renew insurance")
    sharing.create_share(actor=alice, entry_id=entry.id, grantee=bob.email, permission=permission)
    return entry


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_editor_changes_the_words_but_cannot_archive_or_trash(alice: User, bob: User) -> None:
    entry = _shared(alice, bob, "write")
    api = _api(bob)
    assert (
        api.patch(
            f"/api/v1/entries/{entry.id}/", {"title": "Renew car insurance"}, format="json", HTTP_IF_MATCH="*"
        ).status_code
        == 200
    )
    for response in (api.post(f"/api/v1/entries/{entry.id}/archive/"), api.delete(f"/api/v1/entries/{entry.id}/")):
        assert response.status_code == 403
        assert "owner" in response.json()["error"]["message"]
    assert Entry.objects.get(id=entry.id).status == "active"
    page = signed_in(bob).get(f"/entries/{entry.id}/").content.decode()
    assert f'href="/entries/{entry.id}/edit/"' in page
    assert ">Trash</button>" not in page
    assert ">Archive</button>" not in page
    assert 'hx-target="#share-dialog-body"' not in page  # no Share button: sharing is the owner's


def test_an_administrator_may_archive_trash_and_restore(alice: User, bob: User) -> None:
    entry = _shared(alice, bob, "admin")
    assert ">Trash</button>" in signed_in(bob).get(f"/entries/{entry.id}/").content.decode()
    api = _api(bob)
    assert api.post(f"/api/v1/entries/{entry.id}/archive/").status_code == 200
    assert api.delete(f"/api/v1/entries/{entry.id}/").status_code == 204
    assert api.post(f"/api/v1/entries/{entry.id}/restore/", {}, format="json").status_code == 200
    assert Entry.objects.get(id=entry.id).status == "active"


def test_an_editor_cannot_set_when_it_goes_to_the_trash(alice: User, bob: User) -> None:
    entry = _shared(alice, bob, "write")
    soon = (timezone.now() + timedelta(minutes=5)).isoformat()
    response = _api(bob).patch(f"/api/v1/entries/{entry.id}/", {"expires_at": soon}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 403
    assert Entry.objects.get(id=entry.id).expires_at is None


def test_an_editors_web_form_leaves_the_state_out_and_saves(alice: User, bob: User) -> None:
    entry = _shared(alice, bob, "write")
    services.set_status(actor=alice, entry_id=entry.id, status=Status.ARCHIVED)  # meanwhile, by the owner
    web = signed_in(bob)
    form = web.get(f"/entries/{entry.id}/edit/").content.decode()
    assert 'name="status"' not in form
    assert 'name="expires_at"' not in form
    version = Entry.objects.get(id=entry.id).version
    saved = web.post(f"/entries/{entry.id}/edit/", {"title": "Renewed", "priority": "normal", "version": version})
    assert saved.status_code == 302
    assert (Entry.objects.get(id=entry.id).title, Entry.objects.get(id=entry.id).status) == ("Renewed", "archived")


def test_an_editor_ticks_a_shared_repeating_task_without_seeing_its_next_one(alice: User, bob: User) -> None:
    entry = _shared(alice, bob, "write")
    services.update_entry(actor=alice, entry_id=entry.id, changes={"fields": {"recurrence": "daily"}})
    done = signed_in(bob).post(f"/entries/{entry.id}/done/", {"is_done": "1"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200
    assert done.content.decode().count('class="entry-row') == 1
    assert Entry.objects.get(id=entry.id).fields["next_occurrence_id"]


def test_a_full_put_by_an_editor_with_the_same_status_is_fine(alice: User, bob: User) -> None:
    entry = _shared(alice, bob, "write")
    body: dict[str, Any] = {"type": "task", "title": "Renewed", "status": "active", "fields": {}}
    assert _api(bob).put(f"/api/v1/entries/{entry.id}/", body, format="json", HTTP_IF_MATCH="*").status_code == 200


@pytest.mark.parametrize(("query", "symbols"), [("?length=24", False), ("?length=24&symbols=1", True), ("", True)])
def test_the_password_generator_leaves_symbols_out_when_unticked(alice: User, query: str, symbols: bool) -> None:
    html = signed_in(alice).get(f"/entries/generate-password/{query}").content.decode()
    value = re.search(r'value="([^"]+)"', html)
    assert value is not None
    generated = html_module.unescape(value.group(1))
    assert bool(re.search(r"[^A-Za-z0-9]", generated)) is symbols
