"""What every entries page needs: the signed-in person, their client, safe redirects."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from accounts.models import User, signed_in_user
from entries import selectors
from entries.selectors import CategoryNode
from personalpod.http import ClientInfo


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


def actor(request: HttpRequest) -> User:
    return signed_in_user(request)


def client(request: HttpRequest) -> ClientInfo:
    return ClientInfo.from_request(request)


def category_tree(user: User) -> list[CategoryNode]:
    return selectors.category_tree(user)


def back(request: HttpRequest, default: str) -> str:
    """Where to go after a POST: its `next` (on this site only) or DEFAULT."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return default


def go(request: HttpRequest, url: str) -> HttpResponse:
    """Redirect, the htmx way when the request came from htmx (a full page load)."""
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def flatten(tree: list[CategoryNode], depth: int = 0) -> list[tuple[CategoryNode, int]]:
    rows: list[tuple[CategoryNode, int]] = []
    for node in tree:
        rows.append((node, depth))
        rows.extend(flatten(node.children, depth + 1))
    return rows


def find_node(tree: list[CategoryNode], wanted: Any) -> CategoryNode | None:
    for node, _ in flatten(tree):
        if str(node.id) == str(wanted):
            return node
    return None


def no_store(response: HttpResponse) -> HttpResponse:
    """Keep a response that shows a secret out of every cache (and the browser's history)."""
    response["Cache-Control"] = "no-store"
    return response
