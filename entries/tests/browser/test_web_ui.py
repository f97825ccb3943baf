"""What a person does in the browser, end to end, in a real Chromium."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import Action, ActivityLog, User
from entries import services
from entries.models import Entry, Status
from entries.tests.browser.conftest import PHONE, sign_in

TOTP_SEED = "JBSWY3DPEHPK3PXP"


def test_sign_up_sign_out_and_sign_in(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Create account").first.click()
    page.get_by_label("Email").fill("hana@example.com")
    page.get_by_label("Username").fill("hana")
    page.get_by_label("Password").fill("a long enough passphrase 7")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, hana")
    expect(page.get_by_text("Nothing here yet")).to_be_visible()
    page.keyboard.press("/")
    expect(page.locator("#site-search")).to_be_focused()
    page.keyboard.press("Escape")
    page.get_by_label("Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in(page, "hana@example.com", "a long enough passphrase 7")
    assert User.objects.get(email="hana@example.com").username == "hana"


def _new(page: Page, label: str) -> None:
    page.goto("/entries/new/")
    page.get_by_role("link", name=label, exact=True).click()


def _save(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_text("saved.")).to_be_visible()


def test_one_entry_of_each_type(page: Page, alice: User) -> None:
    sign_in(page, alice.email)
    # A note, written in Markdown and previewed before saving.
    _new(page, "Note")
    page.get_by_label("Title").fill("Lisbon ideas")
    page.get_by_label("Text").fill("Ride **tram 28** early")
    page.get_by_role("tab", name="Preview").click()
    expect(page.locator("#panel-preview strong")).to_have_text("tram 28")
    _save(page)
    expect(page.locator(".prose strong")).to_have_text("tram 28")

    # A password: generated, shown (a logged reveal), with an authenticator code.
    _new(page, "Password")
    page.get_by_label("Title").fill("Bank")
    page.get_by_label("Username or e-mail").fill("alice.m")
    page.get_by_role("button", name="Generate").click()
    generated = page.locator("#id_secret")
    expect(generated).to_have_attribute("type", "text")
    secret = generated.input_value()
    assert len(secret) == 20
    page.get_by_label("Website").fill("https://bank.example.com")
    page.get_by_label("Authenticator secret (TOTP)").fill(TOTP_SEED)
    _save(page)
    expect(page.get_by_text(secret)).to_have_count(0)
    page.get_by_role("button", name="Show the password").click()
    expect(page.locator(".secret .value").nth(1)).to_have_text(secret)
    page.get_by_role("button", name="Show code").click()
    expect(page.locator(".totp .code")).to_have_text(re.compile(r"^\d{6}$"))

    # A bookmark.
    _new(page, "Bookmark")
    page.get_by_label("Title").fill("Tram timetable")
    page.get_by_label("Address").fill("https://tram.example.org/28")
    _save(page)
    expect(page.get_by_role("link", name=re.compile(r"tram\.example\.org"))).to_be_visible()

    # A task with a due date and priority, ticked done right in the list.
    _new(page, "Task")
    page.get_by_label("Title").fill("Renew passport")
    page.get_by_label("Due").fill("2031-03-04T09:30")
    page.get_by_label("Priority").select_option("high")
    _save(page)
    expect(page.get_by_text("Tuesday 4 March 2031, 09:30")).to_be_visible()
    page.goto("/entries/?type=task")
    page.get_by_role("button", name="Mark “Renew passport” as done").click()
    expect(page.locator(".entry-row.done")).to_contain_text("Renew passport")

    # A contact with two e-mail addresses and a phone number.
    _new(page, "Contact")
    page.get_by_label("Title").fill("Sam Rivera")
    page.get_by_label("E-mail addresses").fill("sam@example.com")
    page.get_by_role("button", name="Add an address").click()
    page.locator("input[name=emails]").nth(1).fill("sam@work.example")
    page.get_by_label("Phone numbers").fill("+351 912 345 678")
    _save(page)
    expect(page.get_by_role("link", name="sam@work.example")).to_be_visible()

    # A document, ready for files.
    _new(page, "Document")
    page.get_by_label("Title").fill("Lease")
    page.get_by_label("Description").fill("Signed lease, 2025-2027.")
    _save(page)
    expect(page.get_by_text("Drop files here")).to_be_visible()

    kinds = sorted(Entry.objects.filter(owner=alice).values_list("type", flat=True))
    assert kinds == ["bookmark", "contact", "document", "note", "password", "task"]
    task = Entry.objects.get(owner=alice, type="task")
    assert task.fields["is_done"] is True
    assert task.fields["priority"] == "high"
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.VIEW).count() >= 2  # reveal and code


def test_search_as_you_type_highlights_and_suggests(page: Page, alice: User) -> None:
    services.create_entry(actor=alice, type="note", title="Lisbon travel plans", content="Pastéis de Belém")
    services.create_entry(actor=alice, type="note", title="Groceries", content="Milk")
    sign_in(page, alice.email)
    search = page.locator("#site-search")
    search.click()
    search.press_sequentially("lisb", delay=60)
    expect(page.locator("#search-popover mark").first).to_have_text(re.compile("^Lisb", re.I))
    expect(page.locator("#search-popover")).not_to_contain_text("Groceries")
    search.fill("")
    search.press_sequentially("lisbn", delay=60)
    expect(page.locator("#search-popover")).to_contain_text("Did you mean")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=lisbn"))
    page.get_by_role("link", name="lisbon").first.click()
    expect(page.locator("#search-results mark").first).to_be_visible()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (47, 98, 208)).save(buffer, format="PNG")
    return buffer.getvalue()


def _pdf() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 400), (255, 255, 255)).save(buffer, format="PDF")
    return buffer.getvalue()


def test_upload_an_image_and_see_its_thumbnail(page: Page, alice: User) -> None:
    entry = services.create_entry(actor=alice, type="document", title="Passport scan")
    sign_in(page, alice.email)
    page.goto(f"/entries/{entry.id}/")
    page.locator("#file-input").set_input_files(
        files=[{"name": "passport.png", "mimeType": "image/png", "buffer": _png()}]
    )
    # The thumbnail is made by the Celery worker; the gallery looks again until it is there.
    thumbnail = page.get_by_role("img", name="Preview of passport.png")
    expect(thumbnail).to_be_visible(timeout=45_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    page.get_by_role("button", name="Preview passport.png").click()
    expect(page.locator("#file-preview img.preview-image")).to_be_visible()
    page.get_by_role("button", name="Close").first.click()

    # Dropped onto the page this time: a PDF, previewed in a frame.
    dropped = page.evaluate_handle(
        """bytes => { const data = new DataTransfer();
            data.items.add(new File([new Uint8Array(bytes)], "lease.pdf", {type: "application/pdf"})); return data; }""",
        list(_pdf()),
    )
    page.locator(".dropzone").dispatch_event("drop", {"dataTransfer": dropped})
    expect(page.get_by_text("lease.pdf", exact=True)).to_be_visible()
    page.get_by_role("button", name="Preview lease.pdf").click()
    frame = page.frame_locator("#file-preview iframe")
    expect(page.locator("#file-preview iframe")).to_be_visible()
    page.wait_for_timeout(1000)  # a refusal to frame it would show up as a console error
    assert frame is not None
    assert entry.attachments.count() == 2


def test_share_a_note_with_a_second_account(new_context: Callable[..., BrowserContext], alice: User, bob: User) -> None:
    note = services.create_entry(actor=alice, type="note", title="Trip budget", content="Flights: 240 EUR")
    owner = new_context().new_page()
    sign_in(owner, alice.email)
    owner.goto(f"/entries/{note.id}/")
    owner.get_by_role("button", name="Share").click()
    dialog = owner.get_by_role("dialog")
    dialog.get_by_label("Person").press_sequentially("bo", delay=50)
    dialog.get_by_label("Person").fill("bob")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog).to_contain_text("Shared with bob")

    friend = new_context(viewport=PHONE).new_page()
    sign_in(friend, bob.email)
    friend.goto("/shared/")
    friend.get_by_role("link", name="Trip budget").click()
    expect(friend.get_by_text("Flights: 240 EUR")).to_be_visible()
    expect(friend.get_by_text("shared with you by alice")).to_be_visible()


def _open_share_dialog(page: Page, entry: Entry) -> Any:
    page.goto(f"/entries/{entry.id}/")
    page.get_by_role("button", name="Share").click()
    return page.get_by_role("dialog")


def test_a_link_counts_its_openings_and_refuses_once_revoked(
    new_context: Callable[..., BrowserContext], alice: User
) -> None:
    note = services.create_entry(actor=alice, type="note", title="Wedding address", content="Quinta do Lago, 14:00")
    owner = new_context().new_page()
    owner.on("dialog", lambda prompt: prompt.accept())
    sign_in(owner, alice.email)
    dialog = _open_share_dialog(owner, note)
    dialog.get_by_text("Create a link").click()
    dialog.get_by_label("Open limit").fill("5")
    dialog.get_by_role("button", name="Create link").click()
    url = dialog.locator("#new-link").input_value()
    assert "/s/pps_" in url

    stranger = new_context().new_page()
    stranger.goto(url)
    expect(stranger.get_by_text("Quinta do Lago, 14:00")).to_be_visible()

    dialog = _open_share_dialog(owner, note)
    expect(dialog).to_contain_text("opened 1 time (limit 5)")
    dialog.get_by_role("button", name=re.compile("Revoke the link")).click()
    expect(dialog).to_contain_text("The link no longer opens")

    refused = new_context().new_page()
    response = refused.goto(url)
    assert response is not None
    assert response.status == 404
    expect(refused.get_by_role("heading", name="Not found")).to_be_visible()
    owner.goto("/activity/?show=sharing")
    expect(owner.get_by_text("A share link was opened").first).to_be_visible()


def test_trash_and_restore(page: Page, alice: User) -> None:
    note = services.create_entry(actor=alice, type="note", title="Old receipts", content="")
    sign_in(page, alice.email)
    page.goto(f"/entries/{note.id}/")
    page.get_by_role("button", name="Trash").click()
    expect(page.get_by_text("“Old receipts” is in the trash.")).to_be_visible()
    expect(page.get_by_role("link", name="Old receipts")).to_have_count(0)
    page.keyboard.press("g")
    page.keyboard.press("t")
    expect(page).to_have_url(re.compile("/trash/$"))
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_text("“Old receipts” is active again.")).to_be_visible()
    page.goto("/entries/")
    expect(page.get_by_role("link", name="Old receipts")).to_be_visible()
    note.refresh_from_db()
    assert note.status == Status.ACTIVE


def test_bulk_tag_and_archive_from_the_list(page: Page, alice: User) -> None:
    for title in ("Alpha", "Beta", "Gamma"):
        services.create_entry(actor=alice, type="note", title=title)
    sign_in(page, alice.email)
    page.goto("/entries/?sort=title")
    page.get_by_label("Select “Alpha”").check()
    page.get_by_label("Select “Gamma”", exact=True).click(modifiers=["Shift"])
    expect(page.locator("#bulk-form .selected-count")).to_have_text("3 selected")
    page.locator("#bulk-tags").fill("greek")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("3 entries tagged.")).to_be_visible()
    page.get_by_label("Select “Beta”").check()
    page.get_by_label("Action").select_option("archive")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1 entry archived.")).to_be_visible()
    expect(page.get_by_role("link", name="Beta")).to_have_count(0)
    assert Entry.objects.filter(owner=alice, tags__name="greek").count() == 3


def test_an_edit_that_lost_the_race_shows_both_and_lets_the_person_choose(page: Page, alice: User) -> None:
    note = services.create_entry(actor=alice, type="note", title="Packing list", content="passport")
    sign_in(page, alice.email)
    page.goto(f"/entries/{note.id}/edit/")
    page.get_by_label("Text").fill("passport\nsunscreen")
    # Meanwhile another device saves a change.
    services.update_entry(actor=alice, entry_id=note.id, changes={"content": "passport\ncharger"})
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("changed while you were editing")
    expect(page.locator(".diff .del")).to_contain_text("charger")
    expect(page.locator(".diff .add")).to_contain_text("sunscreen")
    note.refresh_from_db()
    assert note.content == "passport\ncharger"  # nothing overwritten yet
    page.get_by_role("button", name="Keep my version").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    note.refresh_from_db()
    assert (note.content, note.version) == ("passport\nsunscreen", 3)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    page.get_by_role("button", name="Restore this version").last.click()
    expect(page.get_by_text("Version 1 is back, as version 4.")).to_be_visible()


UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button, a[href]')).filter(el => {
  if (el.closest('template')) return false;
  const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.title
    || (el.labels && el.labels.length) || el.textContent.trim() || el.querySelector('img[alt]');
  return !named;
}).map(el => el.outerHTML.slice(0, 160))"""


def test_main_pages_fit_a_phone_and_every_control_has_a_name(
    new_context: Callable[..., BrowserContext], alice: User
) -> None:
    note = services.create_entry(actor=alice, type="note", title="A rather long title for a small screen " * 3)
    password = services.create_entry(
        actor=alice,
        type="password",
        title="Bank",
        fields={"secret": "x", "url": "https://bank.example.com/a/very/long/path/that/should/wrap/somewhere/nicely"},
    )
    page = new_context(viewport=PHONE, color_scheme="dark").new_page()
    sign_in(page, alice.email)
    paths = ["/", "/entries/", "/entries/new/", "/entries/new/password/", "/entries/new/contact/", f"/entries/{note.id}/",
             f"/entries/{note.id}/edit/", f"/entries/{password.id}/", f"/entries/{note.id}/history/", "/search/?q=bank",
             "/trash/", "/categories/", "/tags/", "/activity/", "/shared/", "/accounts/tokens/", "/accounts/profile/",
             "/accounts/sessions/", "/export/", "/import/"]  # fmt: skip
    for path in paths:
        page.goto(path)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
        assert page.evaluate(UNLABELLED) == [], path
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 18, 24)"  # the dark palette, following the system
    page.get_by_text("Menu").click()
    expect(page.get_by_role("link", name="Trash")).to_be_visible()
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_the_keyboard_gets_everywhere(new_context: Callable[..., BrowserContext], alice: User) -> None:
    services.create_entry(actor=alice, type="note", title="Lisbon notes", content="tram")
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in(page, alice.email)
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile("/entries/new/$"))
    page.get_by_role("link", name="Note", exact=True).click()
    page.get_by_label("Title").fill("Written by keyboard")
    editor = page.get_by_label("Text")
    editor.fill("important")
    editor.press("Control+a")
    editor.press("Control+b")
    expect(editor).to_have_value("**important**")
    editor.press("Control+Enter")
    expect(page.locator(".prose strong")).to_have_text("important")
    page.keyboard.press("e")
    expect(page).to_have_url(re.compile("/edit/$"))
    page.keyboard.press("g")
    page.keyboard.press("h")
    expect(page).to_have_url(re.compile("/$"))
    page.keyboard.press("/")
    page.keyboard.type("lisb", delay=60)
    expect(page.locator("#search-popover a.hit").first).to_contain_text("Lisbon")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#search-popover a.hit").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lisbon notes")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()


def test_copying_a_password_puts_it_on_the_clipboard(new_context: Callable[..., BrowserContext], alice: User) -> None:
    entry = services.create_entry(actor=alice, type="password", title="Bank", fields={"secret": "c0py-me-please"})
    page = new_context(permissions=["clipboard-read", "clipboard-write"]).new_page()
    sign_in(page, alice.email)
    page.goto(f"/entries/{entry.id}/")
    page.get_by_role("button", name="Copy the password").click()
    expect(page.locator(".secret .value").nth(0)).to_have_text("c0py-me-please")
    page.wait_for_function("async () => (await navigator.clipboard.readText()) === 'c0py-me-please'")
    assert ActivityLog.objects.filter(owner_id=alice.id, action=Action.VIEW, target_id=str(entry.id)).count() == 1


def test_the_admin_and_the_api_docs_work_under_the_content_security_policy(page: Page, alice: User) -> None:
    alice.is_staff = alice.is_superuser = True
    alice.save(update_fields=["is_staff", "is_superuser"])
    sign_in(page, alice.email)
    page.goto("/admin/entries/entry/")
    expect(page.get_by_role("heading", name=re.compile("Select entry"))).to_be_visible()
    page.goto("/api/docs/")
    expect(page.get_by_text("PersonalPod API").first).to_be_visible()
    # The fixture fails the test if the browser refused anything under the policy.
