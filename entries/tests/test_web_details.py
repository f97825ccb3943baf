"""The entry page's details, as a person reads them."""

from __future__ import annotations

import pytest

from accounts.models import User
from entries import services
from entries.tests.test_web_pages import signed_in

pytestmark = pytest.mark.django_db


def test_a_contacts_birthday_is_shown_as_a_date(alice: User) -> None:
    entry = services.create_entry(
        actor=alice, type="contact", title="Sam", fields={"name": "Sam", "birthday": "1990-05-17"}
    )
    page = signed_in(alice).get(f"/entries/{entry.id}/").content.decode()
    assert "17 May 1990" in page
    assert "1990-05-17" not in page.split("<main", 1)[-1].split("</main>", 1)[0]
