"""The web pages' middleware is skipped by the JSON API, and nothing the API needs goes with it."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import Client
from django.urls import resolve
from rest_framework.test import APIClient

from accounts.models import ActivityLog, User
from accounts.tests.factories import PASSWORD
from entries import services

pytestmark = pytest.mark.django_db


def test_a_web_page_still_runs_them_and_the_admin_checks_pass(alice: User) -> None:
    web = Client()
    web.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    page = web.get("/", HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert page.wsgi_request.htmx  # type: ignore[attr-defined] # django-htmx ran
    assert hasattr(page.wsgi_request, "_messages")  # so did the messages middleware
    assert "csrftoken" in web.cookies  # and the CSRF one, which set its cookie
    assert web.get("/entries").status_code == 301  # CommonMiddleware's APPEND_SLASH
    assert "Content-Length" in page
    assert [e for e in checks.run_checks() if e.level >= checks.ERROR] == []  # admin.E408-E410


def test_an_api_request_passes_them_by_and_keeps_its_security_headers(alice: User) -> None:
    api = APIClient()
    api.force_authenticate(alice)
    response = api.get("/api/v1/entries/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not hasattr(response.wsgi_request, "htmx")
    assert not hasattr(response.wsgi_request, "_messages")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src" in response["Content-Security-Policy"]
    assert response["Content-Length"] == str(len(response.content))  # CommonMiddleware still runs


def test_an_api_request_from_a_host_not_allowed_is_refused_before_any_view_runs(alice: User) -> None:
    api = APIClient()
    logged = ActivityLog.objects.count()
    refused = api.post(
        "/api/v1/auth/login/", {"email": alice.email, "password": PASSWORD}, format="json", HTTP_HOST="evil.example"
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "bad_request"
    assert ActivityLog.objects.count() == logged  # the sign-in never ran: no attempt was logged
    signed_in = APIClient()
    signed_in.force_authenticate(alice)
    assert signed_in.get("/api/v1/entries/", HTTP_HOST="evil.example").status_code == 400


def test_api_times_are_utc_whatever_the_browser_sessions_time_zone(alice: User) -> None:
    alice.timezone = "Asia/Tokyo"
    alice.save(update_fields=["timezone"])
    entry = services.create_entry(actor=alice, type="note", title="When")
    web = Client()
    web.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    body = web.get(f"/api/v1/entries/{entry.id}/").json()
    assert body["created_at"].endswith("Z")
    assert str(entry.id) in web.get(f"/entries/{entry.id}/").content.decode()


def test_the_api_still_refuses_a_browser_session_write_without_its_csrf_token(alice: User) -> None:
    signed_in = Client()
    signed_in.post("/accounts/login/", {"email": alice.email, "password": PASSWORD})
    signed_in.get("/")  # a page, which sets the CSRF cookie
    web = Client(enforce_csrf_checks=True)
    web.cookies = signed_in.cookies
    refused = web.post("/api/v1/entries/", {"type": "note", "title": "x"}, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]["message"]
    token = web.cookies["csrftoken"].value
    made = web.post(
        "/api/v1/entries/", {"type": "note", "title": "x"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert made.status_code == 201


def test_the_reordered_api_routes_all_still_resolve() -> None:
    assert resolve("/api/v1/search/").url_name == "search"
    assert resolve("/api/v1/entries/").url_name == "entry-list"
    assert resolve("/api/v1/entries/00000000-0000-0000-0000-000000000000/attachments/").url_name == "attachments"
    assert resolve("/api/v1/files/abc").url_name == "attachment-file"


def test_a_middleware_with_hooks_the_wrapper_cannot_see_is_refused() -> None:
    from django.middleware.csrf import CsrfViewMiddleware

    from personalpod.pages_middleware import for_pages

    with pytest.raises(TypeError, match="process_view"):
        for_pages(CsrfViewMiddleware)
