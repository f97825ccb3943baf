"""Backups that are proven to restore (seed 003): write, prune, restore, verify.

A backup is a compressed custom-format pg_dump taken as the backup role, and a manifest:
when, how big, its SHA-256, the schema version, and every table's row count and checksum
computed in the very snapshot pg_dump reads (an exported snapshot), so that a restored copy
can be compared with the source as it was at the dump's time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from psycopg import IsolationLevel

from ops import postgres
from ops.models import BackupRun
from ops.stores import BackupStore, MissingBackup, read_json, store_for
from personalpod.metrics import Gauge

logger = logging.getLogger(__name__)
MANIFEST_FORMAT = 1
NAME = re.compile(r"^personalpod-(\d{8}T\d{6}Z)(?:-(\d+))?\.dump$")
# One backup at a time per database, whoever starts it (beat, an operator).
_LOCK_KEY = 0x70706F6462616B  # "ppodbak"


class BackupFailed(Exception):
    """The backup was not written; the message says why."""


@dataclass
class Backup:
    name: str
    location: str
    manifest: dict[str, Any]
    pruned: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_name(dump_name: str) -> str:
    return dump_name.removesuffix(".dump") + ".json"


def _free_name(store: BackupStore, taken_at: datetime) -> str:
    stem = f"personalpod-{taken_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    existing = set(store.names())
    name, n = f"{stem}.dump", 1
    while name in existing:
        n += 1
        name = f"{stem}-{n}.dump"
    return name


def create_backup(*, location: str | None = None, retention_days: int | None = None) -> Backup:
    """Dump the database, write the dump and its manifest to LOCATION, prune old ones."""
    store = store_for(location)
    started = timezone.now()
    try:
        backup = _write_backup(store)
    except Exception as failure:
        logger.error("backup to %s failed: %s", store.label, failure)
        BackupRun.objects.create(
            kind=BackupRun.Kind.BACKUP, name="", location=store.label, is_ok=False,
            message=str(failure)[:2000], started_at=started, finished_at=timezone.now(),
        )  # fmt: skip
        raise
    manifest = backup.manifest
    BackupRun.objects.create(
        kind=BackupRun.Kind.BACKUP, name=backup.name, location=store.label, is_ok=True,
        backup_created_at=datetime.fromisoformat(manifest["created_at"]), size=manifest["size"],
        sha256=manifest["sha256"], message=f"{len(manifest['tables'])} tables",
        started_at=started, finished_at=timezone.now(),
    )  # fmt: skip
    backup.pruned = prune(store, retention_days or settings.BACKUP_RETENTION_DAYS)
    logger.info("backup %s written to %s (%d bytes)", backup.name, store.label, manifest["size"])
    return backup


def _write_backup(store: BackupStore) -> Backup:
    source = postgres.source_database()
    with postgres.connect(source) as conn, tempfile.TemporaryDirectory(prefix="personalpod-backup-") as scratch:
        locked = conn.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY]).fetchone()
        conn.commit()
        if not locked or not locked[0]:
            raise BackupFailed("another backup of this database is running")
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot, taken_at, server = conn.execute(
            "SELECT pg_export_snapshot(), now(), current_setting('server_version_num')::int"
        ).fetchone() or ("", timezone.now(), 0)
        dump_major = postgres.tool_major_version("pg_dump")
        if dump_major < server // 10000:
            raise BackupFailed(f"pg_dump {dump_major} cannot dump a PostgreSQL {server // 10000} server")
        name = _free_name(store, taken_at)
        dump = Path(scratch) / name
        # pg_dump reads the exported snapshot while this transaction, which holds it, counts
        # and hashes the same rows.
        process = postgres.start_dump(source, snapshot, dump)
        try:
            tables = postgres.table_stats(conn)
            schema = postgres.schema_version(conn)
        finally:
            _, errors = process.communicate()
        conn.rollback()
        if process.returncode != 0:
            said = "\n".join((errors or "").strip().splitlines()[-8:])
            raise BackupFailed(f"pg_dump exited with {process.returncode}: {said}")
        manifest = {
            "format": MANIFEST_FORMAT,
            "file": name,
            "created_at": taken_at.isoformat(),
            "database": source["NAME"],
            "role": source.get("USER") or "",
            "size": dump.stat().st_size,
            "sha256": _sha256(dump),
            "schema_version": schema,
            "server_version_num": server,
            "pg_dump_major": dump_major,
            "tables": tables,
        }
        manifest_path = Path(scratch) / manifest_name(name)
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        # The dump first: a manifest is only ever next to a whole dump.
        store.put(name, dump)
        store.put(manifest_path.name, manifest_path)
    return Backup(name=name, location=store.label, manifest=manifest)


def backups_in(store: BackupStore) -> list[tuple[datetime, str]]:
    """The dumps in STORE, oldest first."""
    found = []
    for name in store.names():
        match = NAME.match(name)
        if match:
            taken = datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            found.append((taken, name))
    return sorted(found)


def prune(store: BackupStore, retention_days: int) -> list[str]:
    """Keep the newest backup of each of the RETENTION_DAYS most recent days that have one
    (7 daily backups by default); delete the others, dump and manifest."""
    newest_per_day: dict[Any, str] = {}
    for taken, name in backups_in(store):
        newest_per_day[taken.date()] = name  # oldest first: the last one of a day wins
    keep = {newest_per_day[day] for day in sorted(newest_per_day)[-retention_days:]}
    deleted = []
    for _, name in backups_in(store):
        if name not in keep:
            store.delete(manifest_name(name))
            store.delete(name)
            deleted.append(name)
    return deleted


def latest_backup(store: BackupStore) -> str:
    found = backups_in(store)
    if not found:
        raise MissingBackup(f"there is no backup in {store.label}")
    return found[-1][1]


def locate(reference: str | None) -> tuple[BackupStore, str]:
    """A backup named by REFERENCE: a path, an s3:// URL, a name in BACKUP_LOCATION, or
    (None) the newest one there."""
    if reference is None:
        store = store_for()
        return store, latest_backup(store)
    if reference.startswith("s3://"):
        prefix, _, name = reference.rpartition("/")
        return store_for(prefix + "/"), name
    path = Path(reference)
    if path.parent != Path("") or path.exists():
        return store_for(str(path.resolve().parent)), path.name
    return store_for(), reference


@dataclass
class Fetched:
    name: str
    location: str
    dump: Path
    manifest: dict[str, Any] | None


def fetch(reference: str | None, scratch: Path) -> Fetched:
    """Copy a backup and its manifest (None if it has none) into SCRATCH."""
    store, name = locate(reference)
    dump = scratch / name
    store.fetch(name, dump)
    try:
        manifest = read_json(store, manifest_name(name), scratch)
    except MissingBackup:
        manifest = None
    return Fetched(name, store.label, dump, manifest)


def check_file(dump: Path, manifest: dict[str, Any]) -> list[str]:
    problems = []
    size, digest = dump.stat().st_size, _sha256(dump)
    if size != manifest.get("size"):
        problems.append(f"the file has {size} bytes, the manifest says {manifest.get('size')}: truncated or replaced")
    if digest != manifest.get("sha256"):
        problems.append(
            "the file's SHA-256 differs from the manifest's: it is corrupted or not the dump that was written"
        )
    return problems


def restore_backup(reference: str, into: str) -> str:
    """Restore a backup into a new database INTO (refused if it exists); return the backup's name."""
    admin = postgres.admin_database()
    if postgres.database_exists(admin, into):
        raise BackupFailed(f"the database {into} exists: restore creates a new one")
    with tempfile.TemporaryDirectory(prefix="personalpod-restore-") as scratch:
        backup = fetch(reference, Path(scratch))
        if backup.manifest is not None and (problems := check_file(backup.dump, backup.manifest)):
            raise BackupFailed(f"{backup.name}: " + "; ".join(problems))
        postgres.create_database(admin, into)
        try:
            postgres.restore(backup.dump, {**admin, "NAME": into})
        except Exception:
            postgres.drop_database(admin, into)
            raise
    return backup.name


def backup_gauges() -> Iterable[Gauge]:
    """What /metrics says about backups: read from the history (one query each)."""
    now = timezone.now()
    runs = BackupRun.objects.order_by("-finished_at")
    written = runs.filter(kind=BackupRun.Kind.BACKUP, is_ok=True).values_list("backup_created_at", flat=True).first()
    verified = (
        runs.filter(kind=BackupRun.Kind.VERIFICATION, is_ok=True)
        .order_by("-backup_created_at")
        .values_list("backup_created_at", flat=True)
        .first()
    )
    last_check = runs.filter(kind=BackupRun.Kind.VERIFICATION).values_list("is_ok", flat=True).first()
    last_backup_ok = runs.filter(kind=BackupRun.Kind.BACKUP).values_list("is_ok", flat=True).first()
    yield Gauge(
        "personalpod_backup_last_age_seconds",
        "Age of the newest backup written (absent: none yet).",
        [({}, (now - written).total_seconds())] if written else [],
    )
    yield Gauge(
        "personalpod_backup_last_verified_age_seconds",
        "Age of the newest backup that verify_backup restored and checked (absent: none yet).",
        [({}, (now - verified).total_seconds())] if verified else [],
    )
    yield Gauge(
        "personalpod_backup_last_verification_ok",
        "1 if the latest verify_backup passed, 0 if it failed.",
        [({}, 1.0 if last_check else 0.0)] if last_check is not None else [],
    )
    yield Gauge(
        "personalpod_backup_last_run_ok",
        "1 if the latest backup was written, 0 if it failed.",
        [({}, 1.0 if last_backup_ok else 0.0)] if last_backup_ok is not None else [],
    )
