from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import backups


class Command(BaseCommand):
    help = (
        "Write a compressed pg_dump (as the backup role, DATABASE_BACKUP_URL) and its manifest to "
        "BACKUP_LOCATION (a directory or s3://bucket/prefix/), then keep only the newest daily backups."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--to", metavar="DIR_OR_S3_URL", help="another location than BACKUP_LOCATION")
        parser.add_argument(
            "--retention-days", type=int, metavar="N", help="keep N daily backups (default BACKUP_RETENTION_DAYS)"
        )

    def handle(self, *args: Any, to: str | None, retention_days: int | None, **options: Any) -> None:
        if retention_days is not None and retention_days < 1:
            raise CommandError("--retention-days must be at least 1")
        try:
            backup = backups.create_backup(location=to, retention_days=retention_days)
        except Exception as failure:
            raise CommandError(f"backup failed: {failure}") from failure
        manifest = backup.manifest
        self.stdout.write(
            f"{backup.name}: {manifest['size']} bytes, sha256 {manifest['sha256']}, "
            f"{len(manifest['tables'])} tables, written to {backup.location}"
        )
        for name in backup.pruned:
            self.stdout.write(f"pruned {name}")
