"""`make screenshots`: full-page pictures of the main pages, at desktop and phone widths, in
docs/screenshots/ (referenced from the README). Not part of `make test`: pytest collects it
only when named (its file name does not start with test_)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management import call_command
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from accounts.tests.factories import UserFactory
from entries import services
from entries.attachments import services as files
from entries.models import Category, Entry, Tag
from entries.tests.browser.conftest import DESKTOP, PHONE, sign_in
from sharing import services as sharing

OUT = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _photo() -> io.BytesIO:
    image = Image.new("RGB", (960, 640), (226, 232, 240))
    for x in range(0, 960, 4):  # a sky-to-sea gradient, so the thumbnail looks like something
        shade = int(120 + 100 * x / 960)
        image.paste((47, shade, 208), (x, 0, x + 4, 320))
        image.paste((20, 90, shade), (x, 320, x + 4, 640))
    data = io.BytesIO()
    image.save(data, format="PNG")
    data.seek(0)
    return data


def _vault() -> dict[str, Any]:
    demo = UserFactory(email="demo@personalpod.local", username="demo")
    friend = UserFactory(email="sam@example.com", username="sam")
    call_command("seed_sample_data", user=demo.email)
    entries = {entry.title: entry for entry in Entry.objects.filter(owner=demo)}
    colours = {"Finance": "#30a46c", "Home": "#f76b15", "Personal": "#8e4ec6", "Travel": "#0090ff", "Work": "#e5484d"}
    for category in Category.objects.filter(owner=demo, name__in=colours):
        services.update_category(actor=demo, category_id=category.id, color=colours[category.name])
    for tag, colour in (("travel", "#0090ff"), ("todo", "#e2a336"), ("accounts", "#e5484d"), ("ideas", "#12a594")):
        services.update_tag(actor=demo, tag_id=Tag.objects.get(owner=demo, name=tag).id, color=colour)
    note = entries["Trip to Lisbon: ideas"]
    services.update_entry(actor=demo, entry_id=note.id, changes={"content": note.content + "\n- Fado in Alfama"})
    sharing.create_share(actor=demo, entry_id=note.id, grantee="sam", permission="write")
    link = sharing.create_share(actor=demo, entry_id=note.id, link=True, max_access_count=10)
    passport = entries["Passport scan"]
    files.add_attachment(actor=demo, entry_id=passport.id, file=_photo(), name="passport.png")
    services.create_entry(actor=friend, type="note", title="Climbing trip packing list", content="- Rope\n- Chalk")
    shared = Entry.objects.get(owner=friend)
    sharing.create_share(actor=friend, entry_id=shared.id, grantee="demo", permission="read")
    return {"note": note, "password": entries["Bank"], "passport": passport, "link": f"/s/{link.token}"}


def _shoot(page: Page, name: str, width: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)


def test_screenshots(new_context: Callable[..., BrowserContext]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    vault = _vault()
    for width, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = new_context(viewport=viewport, color_scheme="light")
        page = context.new_page()
        page.goto("/accounts/login/")
        _shoot(page, "sign-in", width)
        sign_in(page, "demo@personalpod.local")
        pages = [
            ("home", "/"),
            ("entries", "/entries/"),
            ("tasks", "/entries/?type=task&sort=due"),
            ("note", f"/entries/{vault['note'].id}/"),
            ("note-editor", f"/entries/{vault['note'].id}/edit/"),
            ("history", f"/entries/{vault['note'].id}/history/"),
            ("search", "/search/?q=lisbon"),
            ("categories", "/categories/"),
            ("shared-with-me", "/shared/"),
            ("activity", "/activity/"),
        ]
        for name, path in pages:
            page.goto(path)
            _shoot(page, name, width)
        page.goto(f"/entries/{vault['password'].id}/")
        page.get_by_role("button", name="Show the password").click()
        expect(page.locator(".secret .value").nth(1)).not_to_have_text(re.compile("•"))
        _shoot(page, "password", width)
        page.goto(f"/entries/{vault['passport'].id}/")
        expect(page.get_by_role("img", name="Preview of passport.png")).to_be_visible(timeout=45_000)
        _shoot(page, "document", width)
        page.goto(f"/entries/{vault['note'].id}/")
        page.get_by_role("button", name="Share").click()
        expect(page.get_by_role("dialog")).to_contain_text("sam")
        _shoot(page, "share-dialog", width)
        context.close()
        stranger = new_context(viewport=viewport, color_scheme="light").new_page()
        stranger.goto(vault["link"])
        _shoot(stranger, "shared-link", width)
    for width, viewport, path, name in (
        ("desktop", DESKTOP, "/", "home-dark"),
        ("phone", PHONE, "/entries/", "entries-dark"),
    ):
        dark = new_context(viewport=viewport, color_scheme="dark").new_page()
        sign_in(dark, "demo@personalpod.local")
        dark.goto(path)
        _shoot(dark, name, width)
