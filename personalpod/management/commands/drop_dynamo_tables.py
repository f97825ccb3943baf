from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalpod import dynamo


class Command(BaseCommand):
    help = "Drop this environment's DynamoDB tables (those under DYNAMODB_TABLE_PREFIX)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--yes", action="store_true", help="confirm: the tables and their items are deleted")

    def handle(self, *args: Any, yes: bool, **options: Any) -> None:
        if not yes:
            raise CommandError("refusing to drop tables without --yes")
        for table in dynamo.drop_tables():
            self.stdout.write(f"{table}: dropped")
