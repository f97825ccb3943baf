from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import backups


class Command(BaseCommand):
    help = (
        "Restore a backup (a file, an s3:// URL, or a name in BACKUP_LOCATION) into a new database, "
        "created by DATABASE_ADMIN_URL's role. The SHA-256 is checked against the manifest first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--into", required=True, metavar="DATABASE", help="a database that does not exist yet")

    def handle(self, *args: Any, file: str, into: str, **options: Any) -> None:
        try:
            name = backups.restore_backup(file, into)
        except Exception as failure:
            raise CommandError(f"restore failed: {failure}") from failure
        self.stdout.write(
            f"{name} restored into {into}. To serve from it, hand it to the roles: "
            f"scripts/setup-database.sh --database {into} ... (then point DATABASE_URL at it)."
        )
