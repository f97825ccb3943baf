"""Facts about the client behind a request: its IP address and user agent."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None
    user_agent: str

    @classmethod
    def from_request(cls, request: HttpRequest) -> ClientInfo:
        return cls(ip=client_ip(request), user_agent=request.headers.get("User-Agent", "")[:512])


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the address TRUSTED_PROXY_HOPS proxies saw.

    X-Forwarded-For is only believed as far as our own proxies wrote it: each proxy appends
    the address it saw, so the client is the entry that many hops from the right.
    """
    candidate = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None
