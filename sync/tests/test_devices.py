"""Devices: a device sign-in creates or reuses the Device its sessions name."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.sessions import device_id_for
from sync.models import Device

pytestmark = pytest.mark.django_db


def test_device_sign_in_creates_the_device_its_session_names(alice: User, device_login: Any) -> None:
    body = device_login(alice, "Work Laptop", platform="linux")
    device = Device.objects.get(owner=alice)
    assert str(device.id) == body["device"]["id"] == str(device_id_for(alice.id, "Work Laptop"))
    assert (device.name, device.platform) == ("Work Laptop", "linux")
    assert device.last_seen_at is not None


def test_signing_in_again_reuses_the_device(alice: User, device_login: Any) -> None:
    token = device_login(alice, "Phone")["token"]
    first = Device.objects.get(owner=alice)
    assert _sign_out(token).status_code == 204
    device_login(alice, "  PHONE ", platform="ios")
    again = Device.objects.get(owner=alice)
    assert again.id == first.id
    assert again.platform == "ios"
    assert again.last_seen_at > first.last_seen_at
    assert again.registered_seq == first.registered_seq


def _sign_out(token: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.post("/api/v1/auth/logout/")


def test_two_devices_of_one_name_signed_in_at_once_are_two_devices(alice: User, device_login: Any) -> None:
    first, second = device_login(alice, "iPhone"), device_login(alice, "iphone")
    assert first["device"]["id"] != second["device"]["id"]
    assert Device.objects.filter(owner=alice).count() == 2


def test_signing_in_again_without_signing_out_is_another_device_unless_the_app_says_which(
    alice: User, device_login: Any
) -> None:
    first = device_login(alice, "Phone")["device"]["id"]
    assert device_login(alice, "Phone")["device"]["id"] != first  # maybe a second phone: safe apart
    installation = str(uuid.uuid4())
    mine = device_login(alice, "Phone", installation_id=installation)["device"]["id"]
    assert device_login(alice, "Phone (renamed)", installation_id=installation)["device"]["id"] == mine
    assert device_login(alice, "Phone", installation_id=str(uuid.uuid4()))["device"]["id"] != mine


def test_a_device_starts_after_the_changes_it_copies(alice: User, device_login: Any, write_notes: Any) -> None:
    write_notes(alice, 3)
    device_login(alice, "Tablet")
    device = Device.objects.get(owner=alice)
    assert device.registered_seq == device.last_pulled_seq == 3


def test_sign_in_without_a_device_name_makes_no_device(alice: User, device_login: Any) -> None:
    device_login(alice, None)
    assert not Device.objects.filter(owner=alice).exists()


def test_devices_of_different_users_never_collide(alice: User, bob: User, device_login: Any) -> None:
    device_login(alice, "Laptop")
    device_login(bob, "Laptop")
    assert Device.objects.filter(name="Laptop").count() == 2
