"""The categories and tags pages: create, rename, move, colour, merge and delete."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from entries import services
from entries.models import Category, Entry, Tag
from entries.services.organize import merge_tags
from entries.tests.test_web_pages import note

pytestmark = pytest.mark.django_db


def test_categories_create_rename_move_and_delete(web: Client, alice: User) -> None:
    web.post("/categories/new/", {"name": "Trips", "color": "#30a46c", "icon": "✈"})
    trips = Category.objects.get(owner=alice, name="Trips")
    assert (trips.color, trips.icon) == ("#30a46c", "✈")
    personal = Category.objects.get(owner=alice, name="Personal")
    web.post(f"/categories/{trips.id}/", {"name": "Journeys", "parent": str(personal.id), "color": "", "icon": "✈"})
    trips.refresh_from_db()
    assert (trips.name, trips.parent_id, trips.depth, trips.color) == ("Journeys", personal.id, 1, "")
    clash = web.post("/categories/new/", {"name": "personal"}, follow=True)
    assert "already here" in clash.content.decode()
    web.post(f"/categories/{trips.id}/delete/")
    assert not Category.objects.filter(id=trips.id).exists()
    system = web.post(f"/categories/{personal.id}/delete/", follow=True)
    assert "cannot be deleted" in system.content.decode()


def test_tags_rename_colour_merge_and_delete(web: Client, alice: User) -> None:
    first, second = note(alice, "One", tags=["todo"]), note(alice, "Two", tags=["to-do", "todo"])
    third = note(alice, "Three", tags=["to-do"])
    todo, dashed = Tag.objects.get(owner=alice, name="todo"), Tag.objects.get(owner=alice, name="to-do")
    web.post(f"/tags/{todo.id}/", {"name": "Todo", "color": "#e5484d"})
    todo.refresh_from_db()
    assert (todo.name, todo.color) == ("Todo", "#e5484d")
    web.post(f"/tags/{dashed.id}/merge/", {"target": str(todo.id)})
    assert not Tag.objects.filter(id=dashed.id).exists()
    todo.refresh_from_db()
    assert todo.usage_count == 3
    for entry in (first, second, third):
        assert [tag.name for tag in Entry.objects.get(id=entry.id).tags.all()] == ["Todo"]
    assert Entry.objects.get(id=third.id).version == 2  # a merge is a change, with its history row
    web.post(f"/tags/{todo.id}/delete/")
    assert not Tag.objects.filter(owner=alice).exists()


def test_merging_a_tag_into_itself_or_anothers_is_refused(alice: User, bob: User) -> None:
    mine = services.create_tag(actor=alice, name="mine")
    theirs = services.create_tag(actor=bob, name="theirs")
    with pytest.raises(Exception, match="another tag"):
        merge_tags(actor=alice, source_id=mine.id, target_id=mine.id)
    with pytest.raises(Exception, match="No such tag"):
        merge_tags(actor=alice, source_id=mine.id, target_id=theirs.id)
    with pytest.raises(Tag.DoesNotExist):
        merge_tags(actor=alice, source_id=theirs.id, target_id=mine.id)
