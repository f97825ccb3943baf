from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from accounts.activity import purge_activity
from personalpod.db import use_owner_role


class Command(BaseCommand):
    help = "Delete activity-log rows older than N days: the log's one, logged, retention purge."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than-days", type=int, required=True)

    def handle(self, *args: Any, older_than_days: int, **options: Any) -> None:
        # The application role may not delete from the activity log; its owner may.
        use_owner_role()
        before = timezone.now() - timedelta(days=older_than_days)
        deleted = purge_activity(before=before)
        self.stdout.write(f"deleted {deleted} activity row(s) created before {before:%Y-%m-%d %H:%M} UTC")
