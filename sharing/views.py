"""The public page of a share link, /s/<token>: the entry, read only, for whoever holds the link.

Opening the page counts as one opening of the link (after its passphrase, if it has one).
A password's secret is shown only on a click, and only if the link shares it; that click
carries a signed ticket from the opening, so it is not counted as a second one.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from entries.crypto import envelope
from entries.crypto.keyring import KeyringUnavailable
from entries.models import Entry, EntryType
from personalpod.http import ClientInfo
from sharing import links, throttle
from sharing.api.views import link_headers

TEMPLATE = "sharing/link.html"


def _entry_page(request: HttpRequest, opening: links.Opening, revealed: dict[str, Any] | None = None) -> HttpResponse:
    entry: Entry = opening.entry
    content, fields = entry.content, dict(entry.fields or {})
    if entry.is_sensitive:
        # Sealed whole: nothing of it shows before the click, all of it after.
        unsealed = revealed or {}
        content, fields = unsealed.get("content") or "", unsealed.get("fields") or {}
    elif revealed:
        fields.update(revealed)  # a password's secret and authenticator seed
    context = {
        "entry": entry,
        "shared_by": opening.share.owner.username,
        "tags": sorted((tag.name for tag in entry.tags.all()), key=str.lower),
        "content": content,
        "fields": fields,
        "is_sealed": entry.is_sensitive and revealed is None,
        "can_reveal": opening.share.is_reveal_allowed and bool(entry.content_encrypted) and revealed is None,
        "reveal_label": "Show password" if entry.type == EntryType.PASSWORD else "Show protected contents",
        "ticket": opening.ticket,
    }
    return render(request, TEMPLATE, context)


def _passphrase_page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, TEMPLATE, {"ask_passphrase": True, "error": error}, status=status)


def _not_found(request: HttpRequest) -> HttpResponse:
    # One page for every link that does not open (unknown, expired, used up, revoked), so
    # that it tells a prober nothing; its words cover each case for the person holding it.
    return render(request, TEMPLATE, {"problem": "not_found"}, status=404)


# No CSRF check: the page acts on no one's session (the link is the credential), and its
# Referrer-Policy makes browsers send `Origin: null` on the form's POST, which the check refuses.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest, token: str) -> HttpResponse:
    response = _answer(request, token)
    link_headers(response)
    return response


def _answer(request: HttpRequest, token: str) -> HttpResponse:
    client = ClientInfo.from_request(request)
    action = request.POST.get("action", "open") if request.method == "POST" else "open"
    try:
        if action == "reveal":
            opening, revealed = links.reveal_after_opening(
                token=token, ticket=request.POST.get("ticket", ""), client=client
            )
            return _entry_page(request, opening, revealed)
        passphrase = request.POST.get("passphrase") if request.method == "POST" else None
        return _entry_page(request, links.open_link(token=token, passphrase=passphrase, client=client))
    except links.LinkNotFound:
        return _not_found(request)
    except links.PassphraseRequired:
        if request.method == "GET":
            return _passphrase_page(request)
        return _passphrase_page(request, "Enter the passphrase.", status=403)
    except links.WrongPassphrase:
        return _passphrase_page(request, "That is not the passphrase.", status=403)
    except links.RevealNotAllowed:
        return render(request, "403.html", status=403)
    except throttle.Throttled as throttled:
        wait_minutes = max(1, -(-throttled.retry_after // 60))  # rounded up
        response = render(request, TEMPLATE, {"problem": "throttled", "wait_minutes": wait_minutes}, status=429)
        response["Retry-After"] = str(throttled.retry_after)
        return response
    except envelope.DecryptionFailed:
        return render(request, TEMPLATE, {"problem": "undecryptable"}, status=409)
    except KeyringUnavailable:
        return render(request, TEMPLATE, {"problem": "keys_unavailable"}, status=503)
