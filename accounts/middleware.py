from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts import sessions
from accounts.session_store import SessionStore
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
        if isinstance(session, SessionStore) and session.accessed and request.user.is_authenticated:
            record = session.record
            if record is not None:
                sessions.touch(record, client)
        return response
