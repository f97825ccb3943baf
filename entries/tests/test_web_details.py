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


def test_ticking_a_repeating_task_done_shows_its_next_one_at_once(alice: User) -> None:
    task = services.create_entry(
        actor=alice, type="task", title="Water plants", fields={"due_at": "2026-12-08T09:00:00Z", "recurrence": "daily"}
    )
    web = signed_in(alice)
    done = web.post(f"/entries/{task.id}/done/", {"is_done": "1"}, HTTP_HX_REQUEST="true").content.decode()
    task.refresh_from_db()
    following = task.fields["next_occurrence_id"]
    assert done.count('class="entry-row') == 2
    assert f'id="entry-{following}"' in done
    undone = web.post(f"/entries/{task.id}/done/", {"is_done": "0"}, HTTP_HX_REQUEST="true").content.decode()
    assert undone.count('class="entry-row') == 1
    again = web.post(f"/entries/{task.id}/done/", {"is_done": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert again.count('class="entry-row') == 1  # the next one exists already: it is on the page
