"""Share links: the public API and page, their limits, passphrases and rate limits."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from accounts.tests.factories import UserFactory
from entries.models import Entry
from sharing.models import Share
from sharing.tests.conftest import client_for

pytestmark = pytest.mark.django_db
MakeEntry = Callable[..., dict[str, Any]]
MakeShare = Callable[..., dict[str, Any]]
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def open_link(token: str, ip: str, **params: Any) -> Any:
    return APIClient().get(f"/api/v1/links/{token}/", params, REMOTE_ADDR=ip, HTTP_USER_AGENT="Guest phone")


def assert_private(response: Any) -> None:
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_link_shows_the_entry_read_only_and_counts_each_opening(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    entry = make_entry(alice, title="Guest wifi", content="Network: home-5G", tags=["house"])
    link = share(alice, entry["id"], link=True)
    first = open_link(link["token"], ip)
    assert first.status_code == 200, first.content
    assert_private(first)
    body = first.json()
    assert (body["title"], body["content"], body["tags"], body["shared_by"]) == (
        "Guest wifi", "Network: home-5G", ["house"], "alice",
    )  # fmt: skip
    assert body["link"]["access_count"] == 1
    assert "category" not in body
    assert open_link(link["token"], ip).json()["link"]["access_count"] == 2
    stored = Share.objects.get(id=link["id"])
    assert stored.access_count == 2
    assert stored.last_accessed_at is not None
    # The owner sees who opened it and when.
    opened = client_for(alice).get("/api/v1/activity/", {"action": "share_access"}).json()["results"]
    assert len(opened) == 2
    assert (opened[0]["ip"], opened[0]["user_agent"], opened[0]["metadata"]["access_count"]) == (ip, "Guest phone", 2)
    assert opened[0]["target_id"] == entry["id"]


def test_unknown_revoked_expired_used_up_and_trashed_links_are_one_and_the_same_404(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    api = client_for(alice)
    revoked = share(alice, make_entry(alice)["id"], link=True)
    api.delete(f"/api/v1/shares/{revoked['id']}/")
    expired = share(
        alice, make_entry(alice)["id"], link=True, expires_at=(timezone.now() + timedelta(hours=1)).isoformat()
    )
    Share.objects.filter(id=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    used = share(alice, make_entry(alice)["id"], link=True, max_access_count=1)
    assert open_link(used["token"], ip).status_code == 200
    trashed_entry = make_entry(alice)
    trashed = share(alice, trashed_entry["id"], link=True)
    api.delete(f"/api/v1/entries/{trashed_entry['id']}/")
    gone_owner = UserFactory()
    gone = share(gone_owner, make_entry(gone_owner)["id"], link=True)
    User.objects.filter(id=gone_owner.id).update(is_active=False)  # deactivated by support
    tokens = [
        "pps_" + "A" * 43,
        "x",
        revoked["token"],
        expired["token"],
        used["token"],
        trashed["token"],
        gone["token"],
    ]
    answers = [open_link(token, ip) for token in tokens]
    assert [answer.status_code for answer in answers] == [404] * len(tokens)
    assert all(answer.json() == NOT_FOUND for answer in answers)
    for answer in answers:
        assert_private(answer)
    assert Share.objects.get(id=used["id"]).access_count == 1


def test_a_passphrase_is_asked_for_checked_and_wrong_ones_are_counted(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str, settings: Any
) -> None:
    settings.SHARE_PASSPHRASE_FAILURE_LIMIT = 3
    link = share(alice, make_entry(alice, title="Tax papers")["id"], link=True, passphrase="blue harbour 42")
    missing = open_link(link["token"], ip)
    assert (missing.status_code, missing.json()["error"]["code"]) == (403, "passphrase_required")
    wrong = open_link(link["token"], ip, passphrase="red harbour")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "wrong_passphrase")
    assert_private(wrong)
    assert Share.objects.get(id=link["id"]).access_count == 0
    right = APIClient().get(
        f"/api/v1/links/{link['token']}/", REMOTE_ADDR=ip, HTTP_X_SHARE_PASSPHRASE="blue harbour 42"
    )
    assert right.status_code == 200
    assert right.json()["title"] == "Tax papers"
    posted = APIClient().post(f"/api/v1/links/{link['token']}/", {"passphrase": "blue harbour 42"}, REMOTE_ADDR=ip)
    assert posted.status_code == 200
    # Wrong passphrases count against the address: after the limit, even the right one waits.
    for _ in range(2):
        assert open_link(link["token"], ip, passphrase="guess").status_code == 403
    locked = open_link(link["token"], ip, passphrase="blue harbour 42")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert_private(locked)
    assert open_link(link["token"], "198.18.0.77", passphrase="blue harbour 42").status_code == 200
    # A link without a passphrase still opens from that address (a whole office may share it).
    open_one = share(alice, make_entry(alice, title="Menu")["id"], link=True)
    assert open_link(open_one["token"], ip).status_code == 200
    denied = ActivityLog.objects.filter(action="share_access", metadata__denied="wrong_passphrase")
    assert denied.count() == 3
    assert "harbour" not in str(list(ActivityLog.objects.values("metadata")))


def test_wrong_passphrases_from_many_addresses_lock_the_link(
    alice: User, make_entry: MakeEntry, share: MakeShare, settings: Any
) -> None:
    settings.SHARE_PASSPHRASE_FAILURE_LIMIT_PER_LINK = 4
    link = share(alice, make_entry(alice)["id"], link=True, passphrase="correct one")
    for n in range(4):
        assert open_link(link["token"], f"198.18.1.{n}", passphrase="guess").status_code == 403
    assert open_link(link["token"], "198.18.1.99", passphrase="correct one").status_code == 429


def test_link_endpoints_are_rate_limited_per_address(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str, settings: Any
) -> None:
    settings.SHARE_LINK_RATE_LIMIT = 3
    link = share(alice, make_entry(alice)["id"], link=True)
    assert [open_link(link["token"], ip).status_code for _ in range(3)] == [200, 200, 200]
    assert open_link("pps_" + "B" * 43, ip).status_code == 429  # probing counts too
    assert open_link(link["token"], ip).status_code == 429
    page = Client().get(f"/s/{link['token']}", REMOTE_ADDR=ip)
    assert page.status_code == 429
    minutes = -(-settings.SHARE_LINK_RATE_WINDOW_SECONDS // 60)
    assert f"Try again in {minutes} minute" in page.content.decode()
    assert open_link(link["token"], "198.18.2.1").status_code == 200
    assert Share.objects.get(id=link["id"]).access_count == 4


def test_a_link_reveals_secrets_only_when_it_shares_them(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    entry = make_entry(alice, type="password", title="Guest wifi", fields={"username": "guest", "secret": "p4ss-w0rd"})
    closed = share(alice, entry["id"], link=True)
    opened = open_link(closed["token"], ip)
    assert "p4ss-w0rd" not in opened.content.decode()
    assert (opened.json()["has_secret"], opened.json()["fields"]["username"]) == (True, "guest")
    refused = open_link(closed["token"], ip, reveal="true")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "reveal_not_allowed")
    assert Share.objects.get(id=closed["id"]).access_count == 1  # a refused reveal is no opening
    revealing = share(alice, entry["id"], link=True, is_reveal_allowed=True)
    revealed = open_link(revealing["token"], ip, reveal="true")
    assert revealed.status_code == 200
    assert revealed.json()["secrets"]["secret"] == "p4ss-w0rd"
    view = ActivityLog.objects.get(action="view")
    assert (view.actor_id, view.owner_id, view.metadata["share_id"]) == (None, alice.id, revealing["id"])
    assert "p4ss-w0rd" not in str(view.metadata)


def test_the_bad_link_inputs_are_400s(alice: User, make_entry: MakeEntry, share: MakeShare, ip: str) -> None:
    link = share(alice, make_entry(alice)["id"], link=True)
    response = open_link(link["token"], ip, reveal="perhaps")
    assert response.status_code == 400
    assert "reveal" in response.json()["error"]["fields"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("limit", "expected"), [(15, 15), (None, 20)])
def test_access_counts_are_exact_under_20_concurrent_opens(
    alice: User, make_entry: MakeEntry, share: MakeShare, limit: int | None, expected: int
) -> None:
    link = share(alice, make_entry(alice)["id"], link=True, max_access_count=limit)
    start = threading.Barrier(20)
    codes: list[int] = []
    errors: list[BaseException] = []

    def open_once(n: int) -> None:
        try:
            start.wait()
            codes.append(open_link(link["token"], f"198.18.3.{n}").status_code)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_once, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(codes) == [200] * expected + [404] * (20 - expected)
    assert Share.objects.get(id=link["id"]).access_count == expected
    logged = ActivityLog.objects.filter(action="share_access").values_list("metadata__access_count", flat=True)
    assert sorted(logged) == list(range(1, expected + 1))  # each opening has its own number


def test_the_page_shows_the_entry_and_the_secret_only_after_a_click(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    entry = make_entry(alice, type="password", title="Guest wifi <home>", content="Ask at the desk.",
                       fields={"username": "guest", "secret": "p4ss-w0rd"})  # fmt: skip
    link = share(alice, entry["id"], link=True, is_reveal_allowed=True, max_access_count=1)
    browser = Client()
    page = browser.get(f"/s/{link['token']}", REMOTE_ADDR=ip)
    assert page.status_code == 200
    assert_private(page)
    html = page.content.decode()
    assert "Guest wifi &lt;home&gt;" in html
    assert "Ask at the desk." in html
    assert "p4ss-w0rd" not in html
    assert "Show password" in html
    ticket = re.search(r'name="ticket" value="([^"]+)"', html)
    assert ticket is not None
    clicked = browser.post(f"/s/{link['token']}", {"action": "reveal", "ticket": ticket.group(1)}, REMOTE_ADDR=ip)
    assert clicked.status_code == 200
    assert "p4ss-w0rd" in clicked.content.decode()
    assert_private(clicked)
    # The click was not a second opening (this link allows one), and it is in the owner's log.
    assert Share.objects.get(id=link["id"]).access_count == 1
    assert ActivityLog.objects.filter(action="view", metadata__share_id=link["id"]).count() == 1
    assert browser.get(f"/s/{link['token']}", REMOTE_ADDR=ip).status_code == 404
    forged = browser.post(f"/s/{link['token']}", {"action": "reveal", "ticket": "forged"}, REMOTE_ADDR=ip)
    assert forged.status_code == 404


def test_the_page_offers_no_secret_when_the_link_does_not_share_it(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    entry = make_entry(alice, type="password", title="Router", fields={"secret": "p4ss-w0rd"})
    link = share(alice, entry["id"], link=True)
    browser = Client()
    html = browser.get(f"/s/{link['token']}", REMOTE_ADDR=ip).content.decode()
    assert "Show password" not in html
    ticket = re.search(r'name="ticket" value="([^"]+)"', html)
    assert ticket is None
    # A ticket from another link that does share it does not open this one.
    other = share(alice, entry["id"], link=True, is_reveal_allowed=True)
    other_html = browser.get(f"/s/{other['token']}", REMOTE_ADDR=ip).content.decode()
    other_ticket = re.search(r'name="ticket" value="([^"]+)"', other_html)
    assert other_ticket is not None
    reused = browser.post(f"/s/{link['token']}", {"action": "reveal", "ticket": other_ticket.group(1)}, REMOTE_ADDR=ip)
    assert reused.status_code == 404
    assert "p4ss-w0rd" not in reused.content.decode()


def test_the_page_asks_for_the_passphrase(alice: User, make_entry: MakeEntry, share: MakeShare, ip: str) -> None:
    link = share(alice, make_entry(alice, title="Deeds", content="In the blue folder")["id"], link=True,
                 passphrase="paper moon")  # fmt: skip
    browser = Client(enforce_csrf_checks=True)
    asked = browser.get(f"/s/{link['token']}", REMOTE_ADDR=ip)
    assert asked.status_code == 200
    assert 'name="passphrase"' in asked.content.decode()
    assert "Deeds" not in asked.content.decode()
    assert Share.objects.get(id=link["id"]).access_count == 0
    wrong = browser.post(f"/s/{link['token']}", {"action": "open", "passphrase": "paper sun"}, REMOTE_ADDR=ip)
    assert wrong.status_code == 403
    assert "not the passphrase" in wrong.content.decode()
    right = browser.post(f"/s/{link['token']}", {"action": "open", "passphrase": "paper moon"}, REMOTE_ADDR=ip)
    assert right.status_code == 200
    assert "In the blue folder" in right.content.decode()
    assert_private(right)
    assert Share.objects.get(id=link["id"]).access_count == 1


def test_an_unknown_link_page_is_a_private_404(ip: str) -> None:
    page = Client().get("/s/pps_nothing-here", REMOTE_ADDR=ip)
    assert page.status_code == 404
    assert_private(page)


def test_the_request_log_never_carries_the_token(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str, caplog: pytest.LogCaptureFixture
) -> None:
    link = share(alice, make_entry(alice)["id"], link=True)
    with caplog.at_level(logging.INFO, logger="personalpod.requests"):
        open_link(link["token"], ip)
        Client().get(f"/s/{link['token']}", REMOTE_ADDR=ip)
    lines = [record.getMessage() for record in caplog.records if record.name == "personalpod.requests"]
    lines = [line for line in lines if "/links/" in line or "/s/" in line]
    assert len(lines) == 2
    assert all(link["token"] not in line for line in lines)
    assert any("/api/v1/links/[redacted]" in line for line in lines)
    assert any("/s/[redacted]" in line for line in lines)


def test_deleting_the_entry_forever_ends_its_links(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    entry = make_entry(alice)
    link = share(alice, entry["id"], link=True)
    client_for(alice).delete(f"/api/v1/entries/{entry['id']}/?forever=1")
    assert not Entry.objects.filter(id=entry["id"]).exists()
    assert not Share.objects.exists()
    assert open_link(link["token"], ip).status_code == 404


def test_a_sensitive_entry_opens_sealed_and_unseals_on_a_click(
    alice: User, make_entry: MakeEntry, share: MakeShare, ip: str
) -> None:
    entry = make_entry(alice, title="Will", content="The house goes to the cat.", is_sensitive=True)
    link = share(alice, entry["id"], link=True, is_reveal_allowed=True)
    api_body = open_link(link["token"], ip).json()
    assert (api_body["title"], api_body["content"], api_body["fields"]) == ("Will", None, None)
    browser = Client()
    html = browser.get(f"/s/{link['token']}", REMOTE_ADDR=ip).content.decode()
    assert "The house goes to the cat." not in html
    assert "Show protected contents" in html
    ticket = re.search(r'name="ticket" value="([^"]+)"', html)
    assert ticket is not None
    shown = browser.post(f"/s/{link['token']}/", {"action": "reveal", "ticket": ticket.group(1)}, REMOTE_ADDR=ip)
    assert "The house goes to the cat." in shown.content.decode()
