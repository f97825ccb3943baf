"""Backups: written as the backup role with a manifest, proven by verify_backup, pruned,
restored; a corrupted or unrestorable one fails loudly and /metrics says so."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from ops import backups
from ops.models import BackupRun
from ops.stores import DirectoryStore
from ops.tasks import backup_database_task, verify_backup_task
from ops.tests.conftest import admin_connection

pytestmark = pytest.mark.django_db(transaction=True)


def newest(location: Path) -> tuple[Path, dict[str, Any]]:
    dump = sorted(location.glob("personalpod-*.dump"))[-1]
    return dump, json.loads(dump.with_suffix(".json").read_text())


def metric(name: str) -> str | None:
    for line in Client().get("/metrics").content.decode().splitlines():
        if line.startswith(name + " "):
            return line.split(" ", 1)[1]
    return None


def test_backup_is_written_as_the_backup_role_with_a_manifest(
    vault: dict[str, Any], backup_role: str, backup_location: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("backup")

    dump, manifest = newest(backup_location)
    assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert manifest["role"] == backup_role
    assert manifest["size"] == dump.stat().st_size
    assert manifest["sha256"] == backups._sha256(dump)
    assert manifest["schema_version"]["entries"].startswith("00")
    assert manifest["tables"]["public.entries_entry"]["rows"] == 4
    assert manifest["tables"]["public.entries_entryversion"]["rows"] == 1
    assert datetime.fromisoformat(manifest["created_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert oct(dump.stat().st_mode)[-3:] == "600"
    assert f"{dump.name}: {manifest['size']} bytes" in capsys.readouterr().out
    assert BackupRun.objects.get(kind="backup").is_ok


def test_backup_then_verify_backup_passes(
    vault: dict[str, Any], backup_location: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("backup")
    dump, manifest = newest(backup_location)

    call_command("verify_backup", str(dump))

    out = capsys.readouterr().out
    rows = sum(table["rows"] for table in manifest["tables"].values())
    assert f"{dump.name} restores: {len(manifest['tables'])} tables and {rows} rows match" in out
    # Alice's login (one secret, and its earlier version is history, not sampled), her
    # sensitive diary (content and fields), Bob's login.
    assert "4 secret(s) decrypted" in out
    run = BackupRun.objects.get(kind="verification")
    assert run.is_ok
    assert run.name == dump.name
    assert metric("personalpod_backup_last_verification_ok") == "1"
    age = float(metric("personalpod_backup_last_verified_age_seconds") or "nan")
    assert 0 <= age < 120
    with admin_connection("postgres") as conn:  # the scratch database is gone
        assert not conn.execute("SELECT 1 FROM pg_database WHERE datname LIKE 'pp_verify_%'").fetchall()


def test_verify_backup_without_a_file_takes_the_newest(vault: dict[str, Any], backup_location: Path) -> None:
    call_command("backup")
    call_command("backup")
    second, _ = newest(backup_location)

    call_command("verify_backup")

    assert BackupRun.objects.get(kind="verification").name == second.name


def test_a_corrupted_backup_fails_verification_loudly(vault: dict[str, Any], backup_location: Path) -> None:
    call_command("backup")
    dump, _ = newest(backup_location)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    with pytest.raises(CommandError, match=r"FAILED verification: .*SHA-256 differs"):
        call_command("verify_backup", str(dump))

    assert not BackupRun.objects.get(kind="verification").is_ok
    assert metric("personalpod_backup_last_verification_ok") == "0"
    assert metric("personalpod_backup_last_verified_age_seconds") is None


def test_a_backup_that_does_not_restore_fails_verification(vault: dict[str, Any], backup_location: Path) -> None:
    call_command("backup")
    dump, manifest = newest(backup_location)
    # Truncated, with a manifest that matches what is left: only a restore can tell.
    dump.write_bytes(dump.read_bytes()[: manifest["size"] // 2])
    manifest.update(size=dump.stat().st_size, sha256=backups._sha256(dump))
    dump.with_suffix(".json").write_text(json.dumps(manifest))

    with pytest.raises(CommandError, match="it does not restore: pg_restore exited"):
        call_command("verify_backup", str(dump))
    assert metric("personalpod_backup_last_verification_ok") == "0"


def test_verification_compares_every_table_with_the_source(vault: dict[str, Any], backup_location: Path) -> None:
    call_command("backup")
    dump, manifest = newest(backup_location)
    manifest["tables"]["public.entries_entry"]["rows"] = 5
    manifest["tables"]["public.entries_tag"]["checksum"] = "0" * 32
    dump.with_suffix(".json").write_text(json.dumps(manifest))

    with pytest.raises(CommandError) as result:
        call_command("verify_backup", str(dump))

    assert "table public.entries_entry has 4 rows, the source had 5" in str(result.value)
    assert "table public.entries_tag's rows differ from the source's (checksum)" in str(result.value)


def test_secrets_that_do_not_decrypt_fail_verification(
    vault: dict[str, Any], backup_location: Path, settings: Any
) -> None:
    call_command("backup")
    dump, _ = newest(backup_location)
    # Today's key-encryption keys are not the ones the data keys were wrapped with.
    settings.ENCRYPTION_LOCAL_KEYS = "7:" + "B" * 43 + "="
    from entries.crypto import envelope

    envelope.forget_keys()
    try:
        with pytest.raises(CommandError, match="do not decrypt"):
            call_command("verify_backup", str(dump))
    finally:
        envelope.forget_keys()


def test_a_missing_backup_fails_verification(backup_location: Path) -> None:
    with pytest.raises(CommandError, match="there is no backup in"):
        call_command("verify_backup")
    assert metric("personalpod_backup_last_verification_ok") == "0"


def test_restore_creates_a_new_database_with_the_same_rows(vault: dict[str, Any], backup_location: Path) -> None:
    call_command("backup")
    dump, manifest = newest(backup_location)
    target = f"pp_restored_{dump.stat().st_ino}"
    try:
        call_command("restore", dump.name, into=target)
        with admin_connection(target) as conn:
            entries = conn.execute("SELECT count(*) FROM entries_entry").fetchone()
            assert entries == (manifest["tables"]["public.entries_entry"]["rows"],)
        with pytest.raises(CommandError, match=f"the database {target} exists"):
            call_command("restore", dump.name, into=target)
    finally:
        with admin_connection("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')


def test_restore_refuses_a_corrupted_file_and_creates_nothing(vault: dict[str, Any], backup_location: Path) -> None:
    call_command("backup")
    dump, _ = newest(backup_location)
    dump.write_bytes(dump.read_bytes()[:-10])
    target = f"pp_restored_{dump.stat().st_ino}"

    with pytest.raises(CommandError, match="truncated or replaced"):
        call_command("restore", str(dump), into=target)

    with admin_connection("postgres") as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [target]).fetchone() is None


def test_pruning_keeps_the_newest_backup_of_each_of_the_last_days(tmp_path: Path) -> None:
    store = DirectoryStore(str(tmp_path))
    start = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    names = []
    for day in range(10):
        taken = start + timedelta(days=day)
        names.append(f"personalpod-{taken:%Y%m%dT%H%M%SZ}.dump")
    names.append(f"personalpod-{start + timedelta(days=9, hours=5):%Y%m%dT%H%M%SZ}.dump")  # a second one on day 10
    for name in [*names, "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
        (tmp_path / backups.manifest_name(name)).write_text("{}")

    deleted = backups.prune(store, 7)

    left = sorted(path.name for path in tmp_path.glob("*.dump"))
    assert left == [*names[3:9], names[10]]
    assert sorted(deleted) == sorted([*names[:3], names[9]])
    assert (tmp_path / "notes.txt").exists()
    assert not (tmp_path / backups.manifest_name(names[0])).exists()


def test_the_backup_command_prunes_to_the_retention(vault: dict[str, Any], backup_location: Path) -> None:
    backup_location.mkdir(parents=True)
    old = backup_location / "personalpod-20200101T030000Z.dump"
    old.write_bytes(b"old")
    (backup_location / "personalpod-20200101T030000Z.json").write_text("{}")

    call_command("backup", retention_days=1)

    assert [path.name for path in backup_location.glob("*.dump")] == [newest(backup_location)[0].name]


def test_backup_and_verification_to_an_s3_prefix(
    vault: dict[str, Any], s3_server: dict[str, str], settings: Any
) -> None:
    settings.BACKUP_S3 = {
        "endpoint_url": s3_server["AWS_S3_ENDPOINT_URL"], "region_name": "us-east-1",
        "aws_access_key_id": "testing", "aws_secret_access_key": "testing", "server_side_encryption": "AES256",
    }  # fmt: skip
    settings.BACKUP_LOCATION = f"s3://{s3_server['AWS_STORAGE_BUCKET_NAME']}/backups/nightly/"

    backup = backups.create_backup()
    call_command("verify_backup", f"{settings.BACKUP_LOCATION}{backup.name}")

    from ops.stores import S3Store

    store = S3Store(settings.BACKUP_LOCATION)
    assert set(store.names()) >= {backup.name, backups.manifest_name(backup.name)}
    head = store.client.head_object(Bucket=store.bucket, Key=store.prefix + backup.name)
    assert head["ServerSideEncryption"] == "AES256"
    assert BackupRun.objects.get(kind="verification").is_ok


def test_beat_runs_a_backup_daily_and_a_verification_weekly() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    daily, weekly = schedule["backup-database"], schedule["verify-backup"]
    assert daily["task"] == backup_database_task.name
    assert weekly["task"] == verify_backup_task.name
    assert isinstance(daily["schedule"], crontab)
    assert daily["schedule"].day_of_week == set(range(7))
    assert isinstance(weekly["schedule"], crontab)
    assert len(weekly["schedule"].day_of_week) == 1


def test_the_beat_tasks_back_up_and_verify(vault: dict[str, Any], backup_location: Path) -> None:
    backup_database_task.apply(throw=True)
    verify_backup_task.apply(throw=True)

    assert [run.kind for run in BackupRun.objects.order_by("finished_at")] == ["backup", "verification"]
    assert all(run.is_ok for run in BackupRun.objects.all())
