"""A realistic few dozen entries of every type for one account (idempotent)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from entries import services
from entries.models import Category, Entry

MARKER = "sample_data_seeded"


def _samples(now: Any) -> list[dict[str, Any]]:
    day = timedelta(days=1)
    notes = [
        (
            "Trip to Lisbon: ideas",
            "- Tram 28 early in the morning\n- Pastéis de Belém\n- LX Factory on Sunday",
            "Travel",
            ["travel", "ideas"],
        ),
        (
            "Sourdough starter",
            "Feed 1:1:1 every 12 h. **Keep at 24 °C.** Bake when it doubles in 4 h.",
            "Home",
            ["recipes"],
        ),
        (
            "Quarterly planning notes",
            "## Goals\n1. Ship the sync API\n2. Hire a designer\n\n## Risks\n- Budget",
            "Work",
            ["planning"],
        ),
        (
            "Books to read",
            "- The Dispossessed\n- Seeing Like a State\n- The Mythical Man-Month",
            "Personal",
            ["reading"],
        ),
        ("Meeting with accountant", "Bring: 2025 invoices, pension statement, mortgage letter.", "Finance", ["taxes"]),
        ("Garden: what to plant in March", "Tomatoes indoors, peas outside, prune the roses.", "Home", ["garden"]),
        ("Retrospective", "What went well: pairing. To improve: smaller pull requests.", "Work", ["planning"]),
        ("Gift ideas", "Mum: pottery class. Sam: climbing shoes (size 42).", "Personal", ["ideas"]),
    ]
    items: list[dict[str, Any]] = [
        {"type": "note", "title": t, "content": c, "category": cat, "tags": tags} for t, c, cat, tags in notes
    ]
    for site, user, url, cat in [
        ("Home Wi-Fi", "home-network", "", "Home"),
        ("Bank", "alex.m", "https://bank.example.com", "Finance"),
        ("Email", "alex@example.com", "https://mail.example.com", "Personal"),
        ("Company VPN", "amartin", "https://vpn.example.org", "Work"),
        ("Streaming", "alex.m", "https://tv.example.net", "Personal"),
    ]:
        items.append({"type": "password", "title": site, "category": cat, "tags": ["accounts"],
                      "fields": {"username": user, "url": url, "secret": "sample-" + site.lower().replace(" ", "-") + "-8f3k!"}})  # fmt: skip
    for title, url, tags in [
        ("Django documentation", "https://docs.djangoproject.com/en/5.2/", ["dev"]),
        ("PostgreSQL full-text search", "https://www.postgresql.org/docs/current/textsearch.html", ["dev", "search"]),
        ("Weather in Lisbon", "https://weather.example.com/lisbon", ["travel"]),
        ("Sourdough guide", "https://bread.example.com/sourdough", ["recipes"]),
        ("Local climbing gym", "https://climb.example.org", ["sport"]),
        ("Tax office", "https://tax.example.gov", ["taxes"]),
    ]:
        items.append({"type": "bookmark", "title": title, "tags": tags, "fields": {"url": url, "description": ""}})
    for n, (title, due, priority, recurrence, cat) in enumerate([
        ("Pay the electricity bill", 3, "high", "monthly", "Finance"),
        ("Water the plants", 1, "normal", "weekly", "Home"),
        ("Renew passport", 20, "high", None, "Travel"),
        ("Book dentist", 7, "normal", None, "Personal"),
        ("Prepare slides for Monday", 2, "high", None, "Work"),
        ("Back up the laptop", 5, "low", "monthly", "Personal"),
        ("Call the plumber", -1, "normal", None, "Home"),
    ]):  # fmt: skip
        items.append({"type": "task", "title": title, "category": cat, "tags": ["todo"],
                      "fields": {"due_at": (now + due * day).isoformat(), "priority": priority,
                                 "recurrence": recurrence, "is_done": n == 6}})  # fmt: skip
    for name, emails, phones, org in [
        ("Sam Rivera", ["sam@example.com"], ["+351 912 345 678"], "Rivera Design"),
        ("Dr. Priya Shah", ["reception@clinic.example"], ["+44 20 7946 0000"], "City Clinic"),
        ("Jo Becker", ["jo@example.org", "jo.becker@work.example"], [], "Acme Corp"),
        ("Plumber — Luís", [], ["+351 210 000 111"], "Luís & Filhos"),
    ]:
        items.append({"type": "contact", "title": name, "tags": ["people"],
                      "fields": {"name": name, "emails": emails, "phones": phones, "organisation": org}})  # fmt: skip
    for title, description, cat in [
        ("Passport scan", "Scan of the passport's photo page.", "Travel"),
        ("Lease agreement", "Signed lease, 2025-2027.", "Home"),
        ("Payslips 2026", "Monthly payslips.", "Finance"),
    ]:
        items.append({"type": "document", "title": title, "category": cat, "tags": ["paperwork"],
                      "fields": {"description": description}})  # fmt: skip
    return items


class Command(BaseCommand):
    help = "Fill an account with sample entries of every type, with categories and tags (once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="EMAIL")

    def handle(self, *args: Any, user: str, **options: Any) -> None:
        owner = User.objects.filter(email__iexact=user).first()
        if owner is None:
            raise CommandError(f"no account with the e-mail address {user}")
        if owner.metadata.get(MARKER) or Entry.objects.filter(owner=owner).exists():
            self.stdout.write(f"{owner.email} already has entries; nothing to do")
            return
        with transaction.atomic():
            services.create_starter_categories(owner)
            categories = {c.name: c.id for c in Category.objects.filter(owner=owner, parent=None)}
            for sample in _samples(timezone.now()):
                sample["category"] = categories.get(sample.get("category") or "")
                services.create_entry(actor=owner, **sample)
            owner.metadata = {**owner.metadata, MARKER: True}
            owner.save(update_fields=["metadata"])
        self.stdout.write(f"added {Entry.objects.filter(owner=owner).count()} sample entries to {owner.email}")
