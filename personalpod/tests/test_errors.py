"""Every API error, 404 and 500 included, has one JSON shape."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def assert_error_shape(body: dict[str, object], code: str) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]


def test_unknown_api_path_answers_the_json_404(client: Client) -> None:
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert_error_shape(response.json(), "not_found")


def test_unknown_web_path_answers_an_html_404(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "text/html" in response["Content-Type"]
    assert b"Not found" in response.content


def test_bad_host_header_answers_400(client: Client) -> None:
    response = client.get("/api/v1/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert_error_shape(response.json(), "bad_request")


def test_method_not_allowed_has_the_error_shape(client: Client) -> None:
    response = client.delete("/api/v1/")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")


@pytest.mark.urls("personalpod.tests.urls")
def test_validation_error_names_each_field(client: Client) -> None:
    response = client.post("/api/v1/test/validate/", {"title": "far too long a title"}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "invalid")
    assert set(body["error"]["fields"]) == {"title", "priority"}
    assert body["error"]["fields"]["priority"] == ["This field is required."]


@pytest.mark.urls("personalpod.tests.urls")
def test_malformed_json_is_a_400_with_the_shape(client: Client) -> None:
    response = client.post("/api/v1/test/validate/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert_error_shape(response.json(), "parse_error")


@pytest.mark.urls("personalpod.tests.urls")
def test_unauthenticated_has_the_shape(client: Client) -> None:
    response = client.get("/api/v1/test/unauthenticated/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert_error_shape(response.json(), "not_authenticated")


@pytest.mark.urls("personalpod.tests.urls")
def test_errors_in_a_batch_are_reported_by_item(client: Client) -> None:
    batch = [{"title": "fine", "priority": "low"}, {"title": "fine", "priority": "urgent"}]
    response = client.post("/api/v1/test/batch/", batch, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "invalid")
    assert list(body["error"]["fields"]) == ["1"]  # only the item that failed
    assert list(body["error"]["fields"]["1"]) == ["priority"]


@pytest.mark.urls("personalpod.tests.urls")
def test_unhandled_exception_is_a_json_500_without_internals() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/test/broken/")
    assert response.status_code == 500
    assert_error_shape(response.json(), "server_error")
    assert b"boom" not in response.content


def test_api_root_lists_the_documentation(client: Client) -> None:
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response.json()["docs"].endswith("/api/docs/")


def test_openapi_schema_and_docs_are_served(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "PersonalPod API"
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
