import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts import sessions
from accounts.session_store import SessionStore
from personalpod.errors import error_response, wants_json
from personalpod.http import ClientInfo


class SessionClientMiddleware:
    """Tell the browser session who is on the other end, and record when it was last used."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        client = ClientInfo.from_request(request)
        if isinstance(session, SessionStore):
            session.client = client
        response = self.get_response(request)
        try:
            if isinstance(session, SessionStore) and session.accessed and request.user.is_authenticated:
                record = session.record
                if record is not None:
                    sessions.touch(record, client)
        except sessions.SessionsUnavailable:
            pass  # the response already says so (process_exception) or did not need a session
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, sessions.SessionsUnavailable):
            return None
        # Sign-in state is unknown, not absent: say "try again", and keep the cookie.
        if wants_json(request):
            response: HttpResponse = error_response(
                "sessions_unavailable", "Sign-in state cannot be checked right now; try again shortly.", 503
            )
        else:
            response = render(request, "503.html", status=503)
        response["Retry-After"] = "5"
        return response


class UserTimezoneMiddleware:
    """Show dates and take form input in the signed-in person's time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            user = request.user
            zone = getattr(user, "timezone", "") if user.is_authenticated else ""
        except sessions.SessionsUnavailable:
            zone = ""  # the view meets the outage too, and SessionClientMiddleware answers 503
        try:
            if zone:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            return self.get_response(request)
        finally:
            timezone.deactivate()
