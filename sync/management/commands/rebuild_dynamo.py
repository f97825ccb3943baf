import contextlib
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from accounts.models import User
from personalpod import dynamo
from sync.rebuild import rebuild


class Command(BaseCommand):
    help = (
        "Rebuild DynamoDB's derived data from PostgreSQL: recreate missing tables, the sync queue "
        "(every device's undelivered changes) and drop stale cache items. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--user", action="append", default=[], metavar="EMAIL|USERNAME|ID", help="only this user (repeatable)"
        )

    def handle(self, *args: Any, user: list[str], **options: Any) -> None:
        try:
            dynamo.wait_until_reachable(5)
        except Exception as exc:
            raise CommandError(f"DynamoDB at {dynamo.endpoint_label()} is unreachable: {exc}") from exc
        user_ids = None
        if user:
            user_ids = [_find_user(value) for value in user]
        report = rebuild(user_ids)
        for table in report.tables_created:
            self.stdout.write(f"{table}: created")
        self.stdout.write(
            f"{report.users} users: {report.queue_items_written} sync queue items written, "
            f"{report.queue_items_removed} removed; {report.cache_items_dropped} stale cache items and "
            f"{report.search_items_dropped} stale search pages dropped"
        )


def _find_user(value: str) -> Any:
    lookup = Q(email__iexact=value) | Q(username__iexact=value)
    with contextlib.suppress(ValueError):
        lookup |= Q(id=uuid.UUID(value))
    found = list(User.objects.filter(lookup).values_list("id", flat=True)[:2])
    if len(found) != 1:
        raise CommandError(f"--user {value!r}: no such user")
    return found[0]
