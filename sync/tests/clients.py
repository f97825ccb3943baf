"""Devices that talk to the sync API the way a client does (sign in, pull, push)."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework.test import APIClient

from accounts.models import User
from sync.models import Device
from sync.publisher import publish_changes


class DeviceClient:
    def __init__(self, user: User, name: str, token: str, device_id: str) -> None:
        self.user, self.name, self.device_id = user, name, device_id
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        self.cursor: str | None = None

    @property
    def device(self) -> Device:
        return Device.objects.get(id=self.device_id)

    def pull(self, cursor: str | None = None, limit: int | None = None, status: int = 200) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if cursor:
            params["cursor"] = cursor
        if limit:
            params["limit"] = limit
        response = self.api.get("/api/v1/sync/pull", params)
        assert response.status_code == status, response.content
        return response.json()  # type: ignore[no-any-return]

    def pull_all(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Pull until nothing more; return every change, moving this client's cursor."""
        changes: list[dict[str, Any]] = []
        while True:
            answer = self.pull(self.cursor, limit)
            if answer.get("reset_required"):
                self.cursor = None
                continue
            changes += answer["changes"]
            self.cursor = answer["cursor"]
            if not answer["has_more"]:
                return changes

    def push(self, *operations: dict[str, Any], status: int = 200) -> Any:
        response = self.api.post("/api/v1/sync/push", {"operations": list(operations)}, format="json")
        assert response.status_code == status, response.content
        return response.json()


def op(kind: str, entry: Any = None, base_version: int | None = None, **changes: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"op_id": str(uuid.uuid4()), "op": kind, "changes": changes}
    if entry is not None:
        operation["entry"] = str(entry)
    if base_version is not None:
        operation["base_version"] = base_version
    return operation


def publish(*users: User) -> None:
    for user in users:
        publish_changes(user_id=user.id)
