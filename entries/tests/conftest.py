from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User


@pytest.fixture
def api(alice: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def make_entry(api: APIClient) -> Any:
    def make(**body: Any) -> dict[str, Any]:
        body.setdefault("type", "note")
        body.setdefault("title", "A note")
        response = api.post("/api/v1/entries/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()  # type: ignore[no-any-return]

    return make
