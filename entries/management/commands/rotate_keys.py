from typing import Any

from django.core.management.base import BaseCommand, CommandParser

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
        self.stdout.write(f"re-wrapped {rewrap_data_keys()} data key(s) under the newest key-encryption key")
        if not data_keys:
            return
        users = DataKey.objects.values_list("user_id", flat=True).distinct()
        for user_id in list(users):
            moved = rotate_data_keys(user_id)
            self.stdout.write(f"user {user_id}: new data key, {moved} sealed item(s) re-encrypted")
