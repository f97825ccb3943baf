"""`verify_backup`: prove that a backup restores, and restores to what was dumped.

Restore into a scratch database, compare every table's row count and checksum with the
manifest (the source at the dump's time), open a sample of the secrets with today's keys,
drop the scratch database. Every outcome is recorded (BackupRun) for /metrics and the admin.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from entries.crypto import envelope
from entries.models import DataKey
from ops import postgres
from ops.backups import check_file, fetch
from ops.models import BackupRun
from ops.stores import MissingBackup

logger = logging.getLogger(__name__)


@dataclass
class Verification:
    name: str
    location: str = ""
    backup_created_at: datetime | None = None
    problems: list[str] = field(default_factory=list)
    table_count: int = 0
    row_count: int = 0
    secrets_opened: int = 0
    schema_version: dict[str, str] = field(default_factory=dict)

    @property
    def is_ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.problems:
            return f"{self.name} FAILED verification: " + "; ".join(self.problems)
        return (
            f"{self.name} restores: {self.table_count} tables and {self.row_count} rows match the source "
            f"at {self.backup_created_at:%Y-%m-%d %H:%M:%S} UTC; {self.secrets_opened} secret(s) decrypted"
        )


def verify_backup(reference: str | None = None) -> Verification:
    """Verify the backup REFERENCE names (the newest one when None); record the outcome."""
    started = timezone.now()
    result = Verification(name=reference or "(newest)")
    try:
        _verify(reference, result)
    except (MissingBackup, postgres.ToolFailed, OSError, ValueError) as failure:
        result.problems.append(str(failure))
    except Exception as failure:  # a failure of the check itself must also be loud and recorded
        logger.exception("verify_backup could not run")
        result.problems.append(f"the verification could not run: {type(failure).__name__}: {failure}")
    BackupRun.objects.create(
        kind=BackupRun.Kind.VERIFICATION, name=result.name, location=result.location,
        backup_created_at=result.backup_created_at, is_ok=result.is_ok, message=result.summary()[:4000],
        details={"tables": result.table_count, "rows": result.row_count, "secrets": result.secrets_opened,
                 "schema_version": result.schema_version, "problems": result.problems[:50]},
        started_at=started, finished_at=timezone.now(),
    )  # fmt: skip
    if result.is_ok:
        logger.info("%s", result.summary())
    else:
        logger.error("%s", result.summary())
    return result


def _verify(reference: str | None, result: Verification) -> None:
    with tempfile.TemporaryDirectory(prefix="personalpod-verify-") as scratch:
        backup = fetch(reference, Path(scratch))
        result.name, result.location, manifest = backup.name, backup.location, backup.manifest
        if manifest is None:
            result.problems.append("it has no manifest, so there is nothing to compare the restore with")
            return
        result.backup_created_at = datetime.fromisoformat(manifest["created_at"])
        result.schema_version = dict(manifest.get("schema_version") or {})
        if problems := check_file(backup.dump, manifest):
            result.problems += problems
            return
        with postgres.scratch_database() as database:
            try:
                postgres.restore(backup.dump, database)
            except postgres.ToolFailed as failure:
                result.problems.append(f"it does not restore: {failure}")
                return
            with postgres.connect(database) as conn:
                _compare_tables(postgres.table_stats(conn), manifest.get("tables") or {}, result)
                conn.rollback()
                _open_secrets(conn, result)


def _compare_tables(restored: dict[str, Any], expected: dict[str, Any], result: Verification) -> None:
    for table, want in sorted(expected.items()):
        got = restored.get(table)
        if got is None:
            result.problems.append(f"table {table} is missing from the restore")
        elif got["rows"] != want["rows"]:
            result.problems.append(f"table {table} has {got['rows']} rows, the source had {want['rows']}")
        elif got["checksum"] != want["checksum"]:
            result.problems.append(f"table {table}'s rows differ from the source's (checksum)")
    for table in sorted(set(restored) - set(expected)):
        result.problems.append(f"table {table} is in the restore but was not in the source")
    result.table_count = len(expected)
    result.row_count = sum(int(stats["rows"]) for stats in expected.values())


def _open_secrets(conn: Any, result: Verification) -> None:
    """Decrypt a random sample of sealed entries with the restored data keys and today's
    key-encryption keys: a backup whose secrets cannot be read is not a backup."""
    exists = conn.execute("SELECT to_regclass('public.entries_entry') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return
    sample = conn.execute(
        "SELECT id, owner_id, content_encrypted FROM entries_entry WHERE content_encrypted IS NOT NULL "
        "ORDER BY random() LIMIT %s",
        [settings.BACKUP_VERIFY_SECRETS_SAMPLE],
    ).fetchall()
    owners = sorted({owner_id for _, owner_id, _ in sample})
    keys: dict[uuid.UUID, dict[uuid.UUID, DataKey]] = {}
    for row in conn.execute(
        "SELECT id, user_id, wrapped_key, kek_provider, kek_id, kek_version FROM entries_datakey "
        "WHERE user_id = ANY(%s)",
        [owners],
    ).fetchall():
        key = DataKey(id=row[0], user_id=row[1], wrapped_key=bytes(row[2]), kek_provider=row[3], kek_id=row[4],
                      kek_version=row[5])  # fmt: skip
        keys.setdefault(row[1], {})[row[0]] = key
    for entry_id, owner_id, sealed in sample:
        try:
            result.secrets_opened += len(envelope.unseal_with_keys(entry_id, bytes(sealed), keys.get(owner_id, {})))
        except envelope.DecryptionFailed as failure:
            result.problems.append(f"the secrets of entry {entry_id} do not decrypt: {failure}")
