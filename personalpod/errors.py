"""The one error shape: {"error": {"code": ..., "message": ..., "fields": {...}}}.

DRF exceptions pass through `api_exception_handler`; everything Django answers on its own
(an unknown path, a bad Host header, an unhandled exception) passes through the handler
views below, which answer JSON to API clients and an HTML page to browsers.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

_JSON_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics")


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(code: str, message: str, status: int, fields: dict[str, Any] | None = None) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


def _messages(detail: Any) -> Any:
    """Turn DRF's ErrorDetail trees into plain strings, keeping the nesting of fields."""
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_messages(item) for item in detail]
    return str(detail)


def _describe(exc: exceptions.APIException) -> tuple[str, str, dict[str, Any]]:
    if isinstance(exc, exceptions.ValidationError):
        return ("invalid", *_validation_message_and_fields(_messages(exc.detail)))
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return code, str(exc.detail), {}


def _validation_message_and_fields(detail: Any) -> tuple[str, dict[str, Any]]:
    see_fields = "Invalid input: see fields."
    if isinstance(detail, dict):
        general = detail.pop("non_field_errors", None)
        return (" ".join(map(str, general)) if general else see_fields), detail
    if isinstance(detail, list):
        # Plain messages are about the whole input; nested ones (one per item of a list
        # input, as in a batch) are reported under the item's index.
        plain = [item for item in detail if isinstance(item, str)]
        nested = {str(index): item for index, item in enumerate(detail) if item and not isinstance(item, str)}
        return (" ".join(plain) or see_fields), nested
    return str(detail), {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # DRF's handler turns these two Django exceptions into its own; do the same before describing.
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        # Services look rows up through the reader's queryset: not visible is not found.
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # The service's reason ("Only the entry's owner ... manage its shares."), if it gave one.
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        # Services raise Django's ValidationError keyed by field; the API answers it as a 400.
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response  # an unhandled exception: Django's 500 handler answers (and logs it)
    code, message, fields = _describe(exc)
    response.data = error_body(code, message, fields)
    return response


def wants_json(request: HttpRequest) -> bool:
    if request.path.startswith(_JSON_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        if isinstance(exception, RequestDataTooBig):
            limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20:g} MiB"
            message = f"The request body is over {limit}: send less at once (a smaller sync batch, say)."
            return error_response("too_large", message, 413)
        return error_response("bad_request", "Bad request.", 400)
    return defaults.bad_request(request, exception)  # type: ignore[arg-type]


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return error_response("permission_denied", "You do not have permission to perform this action.", 403)
    return defaults.permission_denied(request, exception)  # type: ignore[arg-type]


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return error_response("not_found", "Not found.", 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return error_response("server_error", "Something went wrong on our side; it has been logged.", 500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if wants_json(request):
        return error_response("csrf_failed", f"CSRF verification failed: {reason}", 403)
    return django_csrf_failure(request, reason)
