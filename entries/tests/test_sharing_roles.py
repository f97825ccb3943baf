"""What an editor of someone else's entry may do: change its words, not its state."""

from __future__ import annotations

import html as html_module
import re
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from entries import services
from entries.models import Entry
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
    assert "Edit" in page
    assert ">Trash</button>" not in page
    assert ">Archive</button>" not in page
    assert 'hx-target="#share-dialog-body"' not in page  # no Share button: sharing is the owner's


def test_an_administrator_may_archive_and_trash(alice: User, bob: User) -> None:
    entry = _shared(alice, bob, "admin")
    assert ">Trash</button>" in signed_in(bob).get(f"/entries/{entry.id}/").content.decode()
    assert _api(bob).post(f"/api/v1/entries/{entry.id}/archive/").status_code == 200


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
