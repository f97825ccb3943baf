from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from entries.models import Category, Entry

pytestmark = pytest.mark.django_db


def test_a_new_account_gets_the_starter_categories(api: APIClient) -> None:
    tree = api.get("/api/v1/categories/tree/").json()["results"]
    assert {node["name"] for node in tree} >= {"Personal", "Work"}
    assert all(node["is_system"] for node in tree)


def test_the_tree_has_counts_in_one_query(
    alice: User, api: APIClient, make_entry: Any, django_assert_max_num_queries: Any
) -> None:
    top = api.post("/api/v1/categories/", {"name": "Projects", "color": "#336699"}, format="json").json()
    mid = api.post("/api/v1/categories/", {"name": "House", "parent": top["id"]}, format="json").json()
    low = api.post("/api/v1/categories/", {"name": "Garden", "parent": mid["id"]}, format="json").json()
    for category, n in ((top, 1), (mid, 2), (low, 3)):
        for i in range(n):
            make_entry(title=f"{category['name']}{i}", category=category["id"])
    make_entry(title="binned", category=low["id"], status="active")
    api.delete(f"/api/v1/entries/{Entry.objects.get(title='binned').id}/")
    with django_assert_max_num_queries(1):  # force_authenticate: the tree itself is one query
        tree = api.get("/api/v1/categories/tree/").json()["results"]
    projects = next(node for node in tree if node["name"] == "Projects")
    assert (projects["entry_count"], projects["total_count"]) == (1, 6)
    house = projects["children"][0]
    assert (house["name"], house["entry_count"], house["total_count"]) == ("House", 2, 5)
    assert house["children"][0]["entry_count"] == 3


def test_a_category_cannot_move_inside_itself(api: APIClient) -> None:
    top = api.post("/api/v1/categories/", {"name": "A"}, format="json").json()
    child = api.post("/api/v1/categories/", {"name": "B", "parent": top["id"]}, format="json").json()
    for parent in (child["id"], top["id"]):
        response = api.patch(f"/api/v1/categories/{top['id']}/", {"parent": parent}, format="json")
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["parent"]
    assert Category.objects.get(id=top["id"]).parent_id is None


def test_categories_nest_to_a_bounded_depth(api: APIClient) -> None:
    parent = None
    for level in range(6):
        body = {"name": f"L{level}", **({"parent": parent} if parent else {})}
        response = api.post("/api/v1/categories/", body, format="json")
        assert response.status_code == 201
        parent = response.json()["id"]
    too_deep = api.post("/api/v1/categories/", {"name": "L6", "parent": parent}, format="json")
    assert too_deep.status_code == 400
    assert list(too_deep.json()["error"]["fields"]) == ["parent"]


def test_names_are_unique_per_parent_in_any_case(api: APIClient) -> None:
    api.post("/api/v1/categories/", {"name": "Recipes"}, format="json")
    response = api.post("/api/v1/categories/", {"name": "RECIPES"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]


def test_deleting_a_category_moves_its_entries_and_children_up(api: APIClient, make_entry: Any) -> None:
    top = api.post("/api/v1/categories/", {"name": "Top"}, format="json").json()
    mid = api.post("/api/v1/categories/", {"name": "Mid", "parent": top["id"]}, format="json").json()
    low = api.post("/api/v1/categories/", {"name": "Low", "parent": mid["id"]}, format="json").json()
    entry = make_entry(title="in mid", category=mid["id"])
    assert api.delete(f"/api/v1/categories/{mid['id']}/").status_code == 204
    moved = api.get(f"/api/v1/entries/{entry['id']}/").json()
    assert (moved["category"], moved["version"]) == (top["id"], 2)
    low_now = Category.objects.get(id=low["id"])
    assert (str(low_now.parent_id), low_now.depth) == (top["id"], 1)


def test_starter_categories_cannot_be_deleted(alice: User, api: APIClient) -> None:
    work = alice.categories.get(name="Work")
    response = api.delete(f"/api/v1/categories/{work.id}/")
    assert response.status_code == 400
    assert Category.objects.filter(id=work.id).exists()


def test_another_users_category_and_tag_are_not_found(api: APIClient, bob: User) -> None:
    bobs = bob.categories.first()
    assert api.get(f"/api/v1/categories/{bobs.id}/").status_code == 404
    assert api.patch(f"/api/v1/categories/{bobs.id}/", {"name": "mine"}, format="json").status_code == 404
    tag = bob.tags.create(name="bob")
    assert api.delete(f"/api/v1/tags/{tag.id}/").status_code == 404


def test_tags_rename_merge_colour_and_delete(alice: User, api: APIClient, make_entry: Any) -> None:
    entry = make_entry(title="t", tags=["Holiday"])
    tag = api.get("/api/v1/tags/").json()["results"][0]
    assert (tag["name"], tag["slug"], tag["usage_count"]) == ("Holiday", "holiday", 1)
    renamed = api.patch(f"/api/v1/tags/{tag['id']}/", {"name": "Summer Holiday", "color": "#FFAA00"}, format="json")
    assert (renamed.json()["slug"], renamed.json()["color"]) == ("summer-holiday", "#ffaa00")
    assert api.get(f"/api/v1/entries/{entry['id']}/").json()["tags"] == ["Summer Holiday"]
    api.post("/api/v1/tags/", {"name": "Other"}, format="json")
    clash = api.post("/api/v1/tags/", {"name": "other"}, format="json")
    assert clash.status_code == 400
    bad = api.post("/api/v1/tags/", {"name": "x", "color": "red"}, format="json")
    assert list(bad.json()["error"]["fields"]) == ["color"]
    assert api.delete(f"/api/v1/tags/{tag['id']}/").status_code == 204
    assert api.get(f"/api/v1/entries/{entry['id']}/").json()["tags"] == []


def test_listing_categories_and_tags_takes_a_fixed_number_of_queries(
    alice: User, api: APIClient, make_entry: Any, django_assert_max_num_queries: Any
) -> None:
    for n in range(20):
        make_entry(title=f"e{n}", tags=[f"tag{n}"])
    with django_assert_max_num_queries(1):
        assert len(api.get("/api/v1/tags/").json()["results"]) == 20
    with django_assert_max_num_queries(1):
        assert len(api.get("/api/v1/categories/").json()["results"]) == 5
