from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from portability.models import Import

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def eager() -> Iterator[None]:
    """Run Celery tasks in-process: for tests about what a task does, not about the worker."""
    from personalpod.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def api(alice: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def carol(db: None) -> User:
    return UserFactory(email="carol@example.com", username="carol")  # type: ignore[no-any-return]


@pytest.fixture
def as_carol(carol: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(carol)
    return client


@pytest.fixture
def run(eager: None, django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Call CALL and run what it queued after commit (the tasks, in-process); return its result."""

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return call


@pytest.fixture
def upload(run: Callable[..., Any]) -> Callable[..., Any]:
    """POST a file to /api/v1/imports/ as CLIENT; return the response (tasks run in-process)."""

    def post(client: APIClient, name: str, data: bytes, **fields: Any) -> Any:
        body = {"file": io.BytesIO(data), **fields}
        body["file"].name = name
        return run(client.post, "/api/v1/imports/", body, format="multipart")

    return post


@pytest.fixture
def import_file(upload: Callable[..., Any], run: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    """Upload, check the preview is ready, confirm; return the finished import's JSON."""

    def go(client: APIClient, name: str, data: bytes, **fields: Any) -> dict[str, Any]:
        staged = upload(client, name, data, **fields)
        assert staged.status_code == 202, staged.content
        preview = client.get(f"/api/v1/imports/{staged.json()['id']}/").json()
        assert preview["status"] == Import.Status.READY, preview
        confirmed = run(client.post, f"/api/v1/imports/{preview['id']}/confirm/", {}, format="json")
        assert confirmed.status_code == 202, confirmed.content
        done = client.get(f"/api/v1/imports/{preview['id']}/").json()
        assert done["status"] == Import.Status.DONE, done
        return {**done, "preview": preview["preview"]}

    return go


def zip_of(files: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
