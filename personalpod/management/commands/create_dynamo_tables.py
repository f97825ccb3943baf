from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalpod import dynamo


class Command(BaseCommand):
    help = "Create every missing DynamoDB table with its keys, GSIs and TTL (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--wait", type=float, default=0, metavar="SECONDS", help="wait this long for DynamoDB to answer"
        )

    def handle(self, *args: Any, wait: float, **options: Any) -> None:
        try:
            dynamo.wait_until_reachable(wait)
        except Exception as exc:
            raise CommandError(f"DynamoDB at {dynamo.endpoint_label()} is unreachable: {exc}") from exc
        for table, outcome in dynamo.create_tables():
            self.stdout.write(f"{table}: {outcome}")
