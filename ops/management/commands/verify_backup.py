from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.verification import verify_backup


class Command(BaseCommand):
    help = (
        "Restore a backup into a scratch database, compare every table's rows and checksum with the source "
        "at the dump's time, decrypt a sample of secrets, drop the scratch database. Exits non-zero on any "
        "difference. Without FILE: the newest backup in BACKUP_LOCATION."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", metavar="FILE")

    def handle(self, *args: Any, file: str | None, **options: Any) -> None:
        result = verify_backup(file)
        if not result.is_ok:
            raise CommandError(result.summary())
        self.stdout.write(result.summary())
