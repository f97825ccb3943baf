from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User


@pytest.fixture
def api(alice: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def web(alice: User) -> Client:
    """Alice, signed in through the web login page."""
    from entries.tests.test_web_pages import signed_in

    return signed_in(alice)


@pytest.fixture
def make_entry(api: APIClient) -> Any:
    def make(**body: Any) -> dict[str, Any]:
        body.setdefault("type", "note")
        body.setdefault("title", "A note")
        response = api.post("/api/v1/entries/", body, format="json")
        assert response.status_code == 201, response.content
        return response.json()  # type: ignore[no-any-return]

    return make


@pytest.fixture(params=["filesystem", "s3"])
def storage_backend(request: pytest.FixtureRequest, settings: Any) -> str:
    """Run the test once per file backend: this run's folder, and S3 (moto's server)."""
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_server")
        settings.STORAGES = {
            **settings.STORAGES,
            "s3": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": s3["AWS_STORAGE_BUCKET_NAME"],
                    "region_name": s3["AWS_S3_REGION_NAME"],
                    "endpoint_url": s3["AWS_S3_ENDPOINT_URL"],
                    "access_key": s3["AWS_S3_ACCESS_KEY_ID"],
                    "secret_key": s3["AWS_S3_SECRET_ACCESS_KEY"],
                    "default_acl": "private",
                    "querystring_auth": True,
                    "querystring_expire": 300,
                    "file_overwrite": False,
                    "object_parameters": {"ServerSideEncryption": "AES256"},
                },
            },
        }
    settings.FILE_STORAGE = request.param
    return str(request.param)
