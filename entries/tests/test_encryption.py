"""Secrets are sealed before they reach the database, and come back only through reveal."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Action, ActivityLog, User
from conftest import closed_port
from entries.crypto import envelope, keyring
from entries.models import DataKey, Entry, EntryVersion

pytestmark = pytest.mark.django_db

SECRET = "correct-horse-Zq7!-unique-secret"
SEED = "JBSWY3DPEHPK3PXP"


def create_password(api: APIClient, **extra: Any) -> dict[str, Any]:
    body = {"type": "password", "title": "Bank", "fields": {"username": "alex", "secret": SECRET, "totp_seed": SEED}}
    response = api.post("/api/v1/entries/", {**body, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def test_a_password_round_trips_and_reads_never_show_the_secret(alice: User, api: APIClient) -> None:
    entry = create_password(api)
    assert entry["has_secret"] is True
    assert "secret" not in entry["fields"]
    assert "totp_seed" not in entry["fields"]
    assert entry["fields"]["username"] == "alex"
    for read in (api.get(f"/api/v1/entries/{entry['id']}/").json(), api.get("/api/v1/entries/").json()["results"][0]):
        assert SECRET not in json.dumps(read)
        assert read["has_secret"] is True
    revealed = api.post(f"/api/v1/entries/{entry['id']}/reveal/")
    assert revealed.status_code == 200
    assert revealed["Cache-Control"] == "no-store"
    assert revealed.json()["secrets"] == {"secret": SECRET, "totp_seed": SEED}
    log = ActivityLog.objects.get(action=Action.VIEW, target_id=entry["id"])
    assert log.metadata == {"revealed": ["fields.secret", "fields.totp_seed"]}
    assert SECRET not in json.dumps(log.metadata)


def test_changing_other_fields_keeps_the_secret_and_a_new_secret_replaces_it(api: APIClient) -> None:
    entry = create_password(api)
    url = f"/api/v1/entries/{entry['id']}/"
    assert api.patch(url, {"fields": {"username": "alex2"}}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    assert api.post(f"{url}reveal/").json()["secrets"]["secret"] == SECRET
    assert api.patch(url, {"fields": {"secret": "new-one-42"}}, format="json", HTTP_IF_MATCH='"2"').status_code == 200
    assert api.post(f"{url}reveal/").json()["secrets"] == {"secret": "new-one-42", "totp_seed": SEED}
    restored = api.post(f"{url}restore/", {"version": 1}, format="json")
    assert restored.status_code == 200
    assert api.post(f"{url}reveal/").json()["secrets"]["secret"] == SECRET
    for version in EntryVersion.objects.filter(entry_id=entry["id"]):
        assert SECRET not in json.dumps(version.snapshot)


def test_a_sensitive_note_keeps_only_its_title_in_plain_text(api: APIClient) -> None:
    body = {"type": "note", "title": "Diary", "content": "private thoughts xyzzy", "is_sensitive": True}
    entry = api.post("/api/v1/entries/", body, format="json").json()
    assert (entry["content"], entry["fields"], entry["is_sensitive"]) == (None, None, True)
    row = Entry.objects.get(id=entry["id"])
    assert row.content == ""
    assert b"xyzzy" not in bytes(row.content_encrypted)
    assert api.post(f"/api/v1/entries/{entry['id']}/reveal/").json()["secrets"]["content"] == "private thoughts xyzzy"


def _pg_dump(database: dict[str, Any]) -> bytes:
    env = {**os.environ, "PGPASSWORD": database["PASSWORD"] or ""}
    args = ["-h", database["HOST"] or "127.0.0.1", "-U", database["USER"] or "postgres", database["NAME"]]
    if database["PORT"]:
        args[2:2] = ["-p", str(database["PORT"])]
    candidates = [shutil.which("pg_dump"), *sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"), reverse=True)]
    spec = importlib.util.find_spec("pgserver")  # the embedded server's own pg_dump, if that is in use
    if spec and spec.submodule_search_locations:
        candidates.insert(0, str(Path(spec.submodule_search_locations[0]) / "pginstall/bin/pg_dump"))
    for binary in filter(None, candidates):
        result = subprocess.run([str(binary), *args], capture_output=True, env=env, check=False, timeout=120)
        if result.returncode == 0:
            return result.stdout
    pytest.fail("no pg_dump could dump the test database")


@pytest.mark.django_db(transaction=True)
def test_a_dump_of_the_database_holds_no_secret(alice: User) -> None:
    client = APIClient()
    client.force_authenticate(alice)
    entry = create_password(client)
    client.patch(f"/api/v1/entries/{entry['id']}/", {"title": "Bank 2"}, format="json", HTTP_IF_MATCH='"1"')
    client.post(f"/api/v1/entries/{entry['id']}/reveal/")
    dump = _pg_dump(connection.settings_dict)
    assert b"Bank 2" in dump  # the dump is real
    assert SECRET.encode() not in dump
    assert SEED.encode() not in dump


def _tokens(entry_id: str) -> dict[str, str]:
    return json.loads(bytes(Entry.objects.get(id=entry_id).content_encrypted))  # type: ignore[no-any-return]


def _set_tokens(entry_id: str, tokens: dict[str, str]) -> None:
    Entry.objects.filter(id=entry_id).update(content_encrypted=json.dumps(tokens).encode())


def test_a_tampered_ciphertext_fails_to_reveal_and_is_logged(api: APIClient) -> None:
    entry = create_password(api)
    tokens = _tokens(entry["id"])
    raw = bytearray(base64.b64decode(tokens["fields.secret"]))
    raw[-1] ^= 0x01
    tokens["fields.secret"] = base64.b64encode(bytes(raw)).decode()
    _set_tokens(entry["id"], tokens)
    response = api.post(f"/api/v1/entries/{entry['id']}/reveal/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "decryption_failed"
    assert ActivityLog.objects.get(action=Action.VIEW).metadata["decryption_failed"] is True


def test_a_ciphertext_moved_to_another_entry_or_field_does_not_open(api: APIClient) -> None:
    first, second = create_password(api), create_password(api, title="Other")
    _set_tokens(second["id"], _tokens(first["id"]))
    assert api.post(f"/api/v1/entries/{second['id']}/reveal/").json()["error"]["code"] == "decryption_failed"
    swapped = _tokens(first["id"])
    swapped["fields.secret"], swapped["fields.totp_seed"] = swapped["fields.totp_seed"], swapped["fields.secret"]
    _set_tokens(first["id"], swapped)
    assert api.post(f"/api/v1/entries/{first['id']}/reveal/").status_code == 409


def test_a_ciphertext_made_with_an_unknown_key_does_not_open(api: APIClient) -> None:
    entry = create_password(api)
    tokens = _tokens(entry["id"])
    raw = bytearray(base64.b64decode(tokens["fields.secret"]))
    raw[1:17] = os.urandom(16)
    tokens["fields.secret"] = base64.b64encode(bytes(raw)).decode()
    _set_tokens(entry["id"], tokens)
    assert api.post(f"/api/v1/entries/{entry['id']}/reveal/").status_code == 409


def test_rotation_rewraps_and_then_reencrypts_with_every_secret_still_readable(
    alice: User, api: APIClient, settings: Any
) -> None:
    entries = [create_password(api, title=f"p{i}") for i in range(3)]
    note = api.post(
        "/api/v1/entries/", {"type": "note", "title": "n", "content": "c", "is_sensitive": True}, format="json"
    ).json()
    old_key = DataKey.objects.get(user=alice)
    assert old_key.kek_version == 1
    settings.ENCRYPTION_LOCAL_KEYS = f"{settings.ENCRYPTION_LOCAL_KEYS},2:{base64.b64encode(os.urandom(32)).decode()}"
    envelope.forget_keys()
    call_command("rotate_keys")
    assert list(DataKey.objects.values_list("kek_version", flat=True)) == [2]
    envelope.forget_keys()
    assert api.post(f"/api/v1/entries/{entries[0]['id']}/reveal/").json()["secrets"]["secret"] == SECRET
    call_command("rotate_keys", "--data-keys")
    new_key = DataKey.objects.get(user=alice)
    assert new_key.id != old_key.id
    for entry in Entry.objects.filter(content_encrypted__isnull=False):
        assert envelope.key_ids(entry.content_encrypted) == {new_key.id}
    envelope.forget_keys()
    for entry in entries:
        assert api.post(f"/api/v1/entries/{entry['id']}/reveal/").json()["secrets"]["secret"] == SECRET
    assert api.post(f"/api/v1/entries/{note['id']}/reveal/").json()["secrets"]["content"] == "c"
    rotations = ActivityLog.objects.filter(action=Action.KEY_ROTATE)
    rewraps = rotations.filter(owner_id=None).order_by("created_at")
    assert [row.metadata["rewrapped_count"] for row in rewraps] == [1, 0]
    assert rotations.get(owner_id=alice.id).metadata["resealed_count"] == 4


def test_the_password_generator(api: APIClient) -> None:
    strong = api.get("/api/v1/password-generator/?length=32").json()
    assert len(strong["password"]) == 32
    assert strong["entropy_bits"] > 150
    digits = api.get("/api/v1/password-generator/?length=12&lowercase=false&uppercase=false&symbols=false").json()
    assert digits["password"].isdigit()
    phrase = api.get("/api/v1/password-generator/?mode=passphrase&words=4&separator=.").json()
    assert len(phrase["password"].split(".")) == 4
    bad = api.get("/api/v1/password-generator/?length=4")
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["length"]
    none = api.get("/api/v1/password-generator/?lowercase=false&uppercase=false&digits=false&symbols=false")
    assert none.status_code == 400


# --- AWS KMS, against moto's KMS server (the same boto3 client production uses) ---


@pytest.fixture(scope="module")
def kms_endpoint() -> Iterator[str]:
    port = closed_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail("moto's server did not start")
            time.sleep(0.2)
    yield endpoint
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def kms(settings: Any, kms_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("kms", endpoint_url=kms_endpoint, region_name="us-east-1")
    key_id = client.create_key(Description="personalpod test")["KeyMetadata"]["KeyId"]
    settings.ENCRYPTION_PROVIDER = "kms"
    settings.ENCRYPTION_KMS_KEY_ID = key_id
    settings.ENCRYPTION_KMS_ENDPOINT = kms_endpoint
    settings.ENCRYPTION_KMS_REGION = "us-east-1"
    keyring._kms_keyring.cache_clear()
    envelope.forget_keys()
    return key_id  # type: ignore[no-any-return]


def test_the_kms_provider_wraps_data_keys_with_kms(alice: User, api: APIClient, kms: str) -> None:
    entry = create_password(api)
    key = DataKey.objects.get(user=alice)
    assert key.kek_provider == "kms"
    assert kms in key.kek_id
    envelope.forget_keys()  # the next reveal must call KMS Decrypt
    assert api.post(f"/api/v1/entries/{entry['id']}/reveal/").json()["secrets"]["secret"] == SECRET


def test_kms_unreachable_is_a_503_and_writes_nothing(alice: User, api: APIClient, settings: Any, kms: str) -> None:
    settings.ENCRYPTION_KMS_ENDPOINT = f"http://127.0.0.1:{closed_port()}"
    keyring._kms_keyring.cache_clear()
    response = api.post(
        "/api/v1/entries/", {"type": "password", "title": "x", "fields": {"secret": "s"}}, format="json"
    )
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["error"]["code"] == "keys_unavailable"
    assert not Entry.objects.filter(owner=alice).exists()
    assert not DataKey.objects.exists()


def test_a_put_of_what_was_read_keeps_the_secrets(api: APIClient) -> None:
    entry = create_password(api)
    read = api.get(f"/api/v1/entries/{entry['id']}/").json()
    body = {key: read[key] for key in ("type", "title", "content", "fields", "status", "tags")}
    body["title"] = "Bank (renamed)"
    response = api.put(f"/api/v1/entries/{entry['id']}/", body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200
    assert api.post(f"/api/v1/entries/{entry['id']}/reveal/").json()["secrets"] == {"secret": SECRET, "totp_seed": SEED}


def test_a_sensitive_entry_reads_as_null_and_a_put_of_that_keeps_it(api: APIClient) -> None:
    entry = api.post(
        "/api/v1/entries/",
        {"type": "note", "title": "D", "content": "hidden words", "is_sensitive": True},
        format="json",
    ).json()
    assert (entry["content"], entry["fields"]) == (None, None)
    body = {"type": "note", "title": "D2", "content": None, "fields": None}
    assert api.put(f"/api/v1/entries/{entry['id']}/", body, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    assert api.post(f"/api/v1/entries/{entry['id']}/reveal/").json()["secrets"]["content"] == "hidden words"


def test_marking_an_entry_sensitive_seals_its_history_and_restore_keeps_it_sealed(api: APIClient) -> None:
    entry = api.post(
        "/api/v1/entries/", {"type": "note", "title": "N", "content": "old plain words"}, format="json"
    ).json()
    url = f"/api/v1/entries/{entry['id']}/"
    assert api.patch(url, {"content": "newer words"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    assert api.patch(url, {"is_sensitive": True}, format="json", HTTP_IF_MATCH='"2"').status_code == 200
    for version in EntryVersion.objects.filter(entry_id=entry["id"]):
        assert "plain words" not in json.dumps(version.snapshot)
        assert "newer words" not in json.dumps(version.snapshot)
    restored = api.post(f"{url}restore/", {"version": 1}, format="json").json()
    assert restored["is_sensitive"] is True
    assert api.post(f"{url}reveal/").json()["secrets"]["content"] == "old plain words"
    assert b"old plain words" not in bytes(Entry.objects.get(id=entry["id"]).content_encrypted)


def test_a_sensitive_recurring_task_spawns_a_sensitive_next_occurrence(alice: User, api: APIClient) -> None:
    fields = {"due_at": "2026-03-27T08:00:00Z", "recurrence": "weekly", "notes": "feed the fish"}
    task = api.post(
        "/api/v1/entries/", {"type": "task", "title": "T", "fields": fields, "is_sensitive": True}, format="json"
    ).json()
    response = api.patch(
        f"/api/v1/entries/{task['id']}/", {"fields": {**fields, "is_done": True}}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200
    following = Entry.objects.exclude(id=task["id"]).get(owner=alice, type="task")
    assert following.is_sensitive
    assert following.fields == {}
    assert following.content == ""
    revealed = api.post(f"/api/v1/entries/{following.id}/reveal/").json()["secrets"]["fields"]
    assert (revealed["due_at"], revealed["notes"]) == ("2026-04-03T08:00:00+00:00", "feed the fish")


def test_data_key_rotation_covers_history_and_resumes_past_a_bad_row(alice: User, api: APIClient) -> None:
    good = create_password(api, title="good")
    api.patch(f"/api/v1/entries/{good['id']}/", {"fields": {"secret": "second"}}, format="json", HTTP_IF_MATCH='"1"')
    bad = create_password(api, title="bad")
    tokens = _tokens(bad["id"])
    raw = bytearray(base64.b64decode(tokens["fields.secret"]))
    raw[-1] ^= 0x01
    tokens["fields.secret"] = base64.b64encode(bytes(raw)).decode()
    _set_tokens(bad["id"], tokens)
    old_key = DataKey.objects.get(user=alice)
    updated_before = Entry.objects.get(id=good["id"]).updated_at
    with pytest.raises(CommandError):
        call_command("rotate_keys", "--data-keys")
    keys = DataKey.objects.filter(user=alice)
    assert set(keys.values_list("id", flat=True)) >= {old_key.id}  # still named by the bad row: kept
    new_key = keys.get(retired_at__isnull=True)
    assert envelope.key_ids(Entry.objects.get(id=good["id"]).content_encrypted) == {new_key.id}
    kept = EntryVersion.objects.get(entry_id=good["id"])
    assert envelope.key_ids(envelope.b64(kept.snapshot["sealed"])) == {new_key.id}
    assert Entry.objects.get(id=good["id"]).updated_at == updated_before
    Entry.objects.filter(id=bad["id"]).delete()
    call_command("rotate_keys", "--data-keys")  # resumes with the same key, then drops the old one
    assert list(DataKey.objects.filter(user=alice).values_list("id", flat=True)) == [new_key.id]
    envelope.forget_keys()
    restored = api.post(f"/api/v1/entries/{good['id']}/restore/", {"version": 1}, format="json")
    assert restored.status_code == 200
    assert api.post(f"/api/v1/entries/{good['id']}/reveal/").json()["secrets"]["secret"] == SECRET


def test_reveal_with_kms_unreachable_is_a_503(alice: User, api: APIClient, settings: Any, kms: str) -> None:
    entry = create_password(api)
    settings.ENCRYPTION_KMS_ENDPOINT = f"http://127.0.0.1:{closed_port()}"
    keyring._kms_keyring.cache_clear()
    envelope.forget_keys()
    response = api.post(f"/api/v1/entries/{entry['id']}/reveal/")
    assert response.status_code == 503
    assert response["Retry-After"]
