import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from accounts.models import User
from accounts.services import create_user

DEMO_EMAIL = "demo@personalpod.local"
DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create the demo account for `make run` (idempotent) and print its credentials."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--sample-data", action="store_true", help="also fill it with sample entries")

    def handle(self, *args: Any, email: str, sample_data: bool = False, **options: Any) -> None:
        # The password is random per machine and kept beside the data, never in the repository.
        password_file = Path(settings.DATA_DIR) / "demo-password"
        user = User.objects.filter(email__iexact=email).first()
        password = password_file.read_text().strip() if password_file.exists() else ""
        if user is None or not password or not user.check_password(password):
            password = password or secrets.token_urlsafe(12)
            if user is None:
                user = create_user(email, DEMO_USERNAME, password, is_staff=True, is_superuser=True)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        self.stdout.write(f"Demo account (also a staff admin): {user.email} / {password}")
        if sample_data:  # by name: the entries app owns sample data (one process start, not two)
            call_command("seed_sample_data", user=user.email, stdout=self.stdout)
