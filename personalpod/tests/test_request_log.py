import io
import json
import logging

import pytest
from django.test import Client

from personalpod.logs import JsonFormatter

pytestmark = pytest.mark.django_db


def test_one_line_per_request_with_id_method_path_status_and_duration(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="personalpod.requests"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="req-123")
    records = [r for r in caplog.records if r.name == "personalpod.requests"]
    assert len(records) == 1
    record = records[0]
    assert response["X-Request-ID"] == "req-123"
    assert (record.request_id, record.method, record.path, record.status) == ("req-123", "GET", "/healthz", 200)  # type: ignore[attr-defined]
    assert record.duration_ms >= 0  # type: ignore[attr-defined]
    assert record.getMessage().startswith("GET /healthz 200 ")
    assert record.getMessage().endswith(" request_id=req-123")


def test_a_request_id_is_made_when_none_or_a_bad_one_is_sent(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert len(response["X-Request-ID"]) == 32


def test_errors_are_logged_too(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="personalpod.requests"):
        client.get("/api/v1/nothing-here/")
    assert [r.status for r in caplog.records if r.name == "personalpod.requests"] == [404]  # type: ignore[attr-defined]


def test_share_link_tokens_never_reach_the_log(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="personalpod.requests"):
        client.get("/s/very-secret-token/")
        client.get("/api/v1/links/another-secret-token/")
        client.get("/api/v1/files/signed-secret-token:1xZeLM:signature")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "secret-token" not in logged
    assert "signature" not in logged
    assert "/s/[redacted]" in logged
    assert "/api/v1/files/[redacted]" in logged


@pytest.mark.urls("personalpod.tests.urls")
def test_a_500_on_a_share_link_path_logs_no_token_or_query(settings: object) -> None:
    handler = next(h for h in logging.getLogger().handlers if h.filters)
    stream = io.StringIO()
    previous = handler.setStream(stream)  # type: ignore[attr-defined]
    try:
        Client(raise_request_exception=False).get("/s/very-secret-token/boom/?passphrase=open-sesame")
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]
    written = stream.getvalue()
    assert "Internal Server Error" in written
    assert "/s/[redacted]" in written
    assert "very-secret-token" not in written
    assert "open-sesame" not in written


def test_json_formatter_writes_one_object_per_line_with_the_request_fields() -> None:
    record = logging.LogRecord("personalpod.requests", logging.INFO, __file__, 1, "GET / 200", (), None)
    record.request_id = "abc"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "GET / 200"
    assert parsed["request_id"] == "abc"
    assert parsed["level"] == "INFO"


def test_the_redacting_filter_keeps_mapping_arguments() -> None:
    from personalpod.logs import RedactSecretsFilter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%(path)s", ({"path": "/s/tok123/"},), None)
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == "/s/[redacted]/"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/s/tok123", "/s/[redacted]"),
        ("/s/tok123/files/", "/s/[redacted]/files/"),
        ("/api/v1/links/tok123/", "/api/v1/links/[redacted]/"),
        ("/api/v1/files/signed.tok", "/api/v1/files/[redacted]"),
        ("/accounts/reset/MQ/c1a-8f2e/", "/accounts/reset/MQ/[redacted]/"),
        ("GET /api/v1/links/a/s/b 200", "GET /api/v1/links/[redacted]/s/[redacted] 200"),
        ("/api/v1/search/", "/api/v1/search/"),
    ],
)
def test_every_secret_bearing_path_is_redacted(path: str, logged: str) -> None:
    from personalpod.logs import loggable_path

    assert loggable_path(path) == logged
