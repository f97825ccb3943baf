from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from ops.consistency import verify


class Command(BaseCommand):
    help = (
        "Check, for each user (or those named), that the change feed has no gaps, that every entry's latest "
        "version has its history, change-feed and activity rows, and that the DynamoDB sync queue and caches "
        "agree with PostgreSQL. Prints each mismatch; exits non-zero when there is any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", action="append", metavar="EMAIL", help="only this user (may be repeated)")
        parser.add_argument(
            "--max-lag-minutes", type=int, default=10, metavar="N",
            help="changes unpublished for longer than this are a mismatch (default 10)",
        )  # fmt: skip

    def handle(self, *args: Any, user: list[str] | None, max_lag_minutes: int, **options: Any) -> None:
        users = User.objects.order_by("email")
        if user:
            users = users.filter(email__in=[email.lower() for email in user])
            missing = {email.lower() for email in user} - set(users.values_list("email", flat=True))
            if missing:
                raise CommandError(f"no account with the e-mail address {', '.join(sorted(missing))}")
        report = verify(users.iterator(), max_lag=timedelta(minutes=max_lag_minutes))
        for line in report.mismatches:
            self.stdout.write(line)
        if report.mismatches:
            raise CommandError(f"{len(report.mismatches)} mismatch(es) in {report.users} user(s)")
        self.stdout.write(f"{report.users} user(s) checked: PostgreSQL, the sync queue and the caches agree")
