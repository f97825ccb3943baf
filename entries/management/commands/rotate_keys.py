from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from entries.models import DataKey
from entries.services.secrets import rewrap_data_keys, rotate_data_keys


class Command(BaseCommand):
    help = (
        "Re-wrap every user's data key under the newest key-encryption key (entries untouched); "
        "with --data-keys, also give each user a new data key and re-encrypt their secrets, "
        "online and resumable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data-keys", action="store_true", help="also re-encrypt entries under new data keys")

    def handle(self, *args: Any, data_keys: bool, **options: Any) -> None:
        with connection.cursor() as cursor:  # one rotation at a time
            cursor.execute("SELECT pg_try_advisory_lock(hashtext('personalpod:rotate_keys'))")
            if not cursor.fetchone()[0]:
                raise CommandError("another rotate_keys is running")
        self.stdout.write(f"re-wrapped {rewrap_data_keys()} data key(s) under the newest key-encryption key")
        if not data_keys:
            return
        failed = 0
        for user_id in list(DataKey.objects.values_list("user_id", flat=True).distinct()):
            report = rotate_data_keys(user_id)
            failed += len(report.failed_ids)
            self.stdout.write(f"user {user_id}: {report.resealed_count} sealed item(s) re-encrypted")
            for item in report.failed_ids:
                self.stderr.write(f"  could not decrypt {item}: left under its old key")
        if failed:
            raise CommandError(f"{failed} item(s) could not be re-encrypted; run again after looking at them")
