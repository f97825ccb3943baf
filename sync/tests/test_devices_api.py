"""The devices API: list with last sync and backlog, rename, remove (sessions end, queue dropped)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accounts.models import User
from entries.services.entries import create_entry
from sync.models import Device
from sync.tests.clients import op, publish
from sync.tests.helpers import queue_items

pytestmark = pytest.mark.django_db


def test_devices_are_listed_with_last_sync_and_backlog(alice: User, bob: User, sync_device: Any) -> None:
    laptop, phone = sync_device(alice, "Laptop"), sync_device(alice, "Phone")
    sync_device(bob, "Bob's phone")
    laptop.pull_all()
    phone.pull_all()
    create_entry(actor=alice, type="note", title="From the web")
    phone.push(op("create", type="note", title="From the phone"))
    publish(alice)
    laptop.pull_all()
    laptop.pull(laptop.cursor)  # acknowledges
    response = phone.api.get("/api/v1/devices/")
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert set(rows) == {"Laptop", "Phone"}
    assert (rows["Laptop"]["backlog_count"], rows["Phone"]["backlog_count"]) == (0, 1)  # not its own change
    assert rows["Laptop"]["last_seen_at"] is not None
    assert (rows["Phone"]["is_current"], rows["Laptop"]["is_current"]) == (True, False)


def test_a_device_is_renamed(alice: User, sync_device: Any) -> None:
    laptop = sync_device(alice, "Laptop")
    device = laptop.device
    response = laptop.api.patch(f"/api/v1/devices/{device.id}/", {"name": "Work laptop"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Work laptop"
    device.refresh_from_db()
    assert device.name == "Work laptop"
    response = laptop.api.patch(f"/api/v1/devices/{device.id}/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["error"]["fields"]


def test_removing_a_device_ends_its_sessions_and_drops_its_queue(alice: User, sync_device: Any) -> None:
    laptop, phone = sync_device(alice, "Laptop"), sync_device(alice, "Phone")
    create_entry(actor=alice, type="note", title="Queued")
    publish(alice)
    removed = phone.device
    assert {item.device_key for item in queue_items(alice)} == {f"DEVICE#{laptop.device.id}", f"DEVICE#{removed.id}"}
    response = laptop.api.delete(f"/api/v1/devices/{removed.id}/")
    assert response.status_code == 204
    assert not Device.objects.filter(id=removed.id).exists()
    assert {item.device_key for item in queue_items(alice)} == {f"DEVICE#{laptop.device.id}"}
    assert phone.api.get("/api/v1/sync/pull").status_code == 401  # its token no longer works
    assert laptop.api.get("/api/v1/sync/pull").status_code == 200


def test_another_users_device_is_not_found(alice: User, bob: User, sync_device: Any) -> None:
    laptop, bobs = sync_device(alice, "Laptop"), sync_device(bob, "Phone")
    other = bobs.device
    assert laptop.api.patch(f"/api/v1/devices/{other.id}/", {"name": "Mine"}, format="json").status_code == 404
    assert laptop.api.delete(f"/api/v1/devices/{other.id}/").status_code == 404
    assert laptop.api.delete(f"/api/v1/devices/{uuid.uuid4()}/").status_code == 404
    assert Device.objects.filter(id=other.id, name="Phone").exists()


def test_devices_need_a_signed_in_user(client: Any) -> None:
    assert client.get("/api/v1/devices/").status_code == 401
    assert client.delete(f"/api/v1/devices/{uuid.uuid4()}/").status_code == 401


def test_device_list_query_count_is_bounded(alice: User, sync_device: Any, django_assert_max_num_queries: Any) -> None:
    clients = [sync_device(alice, f"Device {n}") for n in range(4)]
    with django_assert_max_num_queries(4):
        response = clients[0].api.get("/api/v1/devices/")
    assert len(response.json()["results"]) == 4
