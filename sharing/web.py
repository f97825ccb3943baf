"""The sharing web pages: the share dialog on an entry (people and links, who has access,
revoke), people autocomplete, and "shared with me". Thin views over sharing.services and
sharing.selectors; the public link page is sharing.views."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User, signed_in_user
from entries.forms import STATUS_VIEWS, TYPES, ListFilters, local_datetime_field
from entries.models import Entry
from personalpod.http import ClientInfo
from sharing import selectors, services
from sharing.models import PERMISSION_LABELS, Share, State
from sharing.services import MAX_ACCESS_COUNT, PASSPHRASE_MAX

PEOPLE_SUGGESTIONS = 8


class PersonShareForm(forms.Form):
    grantee = forms.CharField(max_length=254, label="Person", help_text="Their username or e-mail address.")
    permission = forms.ChoiceField(choices=list(PERMISSION_LABELS.items()))
    expires_at = local_datetime_field("Until", "Optional: the share ends by itself then.")


class LinkForm(forms.Form):
    expires_at = local_datetime_field("Expires", "Optional: the link stops working then.")
    max_access_count = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ACCESS_COUNT, label="Open limit",
        help_text="Optional: how many times it may be opened.",
    )  # fmt: skip
    passphrase = forms.CharField(
        required=False, max_length=PASSPHRASE_MAX, strip=False, label="Passphrase",
        help_text="Optional: whoever opens it must type this.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )  # fmt: skip
    is_reveal_allowed = forms.BooleanField(required=False, label="Let it show the password or sealed text on request")


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


def _dialog(
    request: HttpRequest,
    entry: Entry,
    *,
    person_form: PersonShareForm | None = None,
    link_form: LinkForm | None = None,
    new_link: str = "",
    notice: str = "",
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    now = timezone.now()
    rows = [(share, share.state_at(now)) for share in selectors.shares_for_entry(reader=user, entry_id=entry.id)]
    context = {
        "entry": entry,
        "people": [(share, state) for share, state in rows if not share.is_link],
        "links": [(share, state) for share, state in rows if share.is_link],
        "live": State.LIVE,
        "person_form": person_form or PersonShareForm(auto_id="share-%s"),
        "link_form": link_form or LinkForm(auto_id="link-%s"),
        "new_link": new_link,
        "notice": notice,
        "is_owner": entry.owner_id == user.id,
    }
    return render(request, "sharing/dialog.html", context, status=status)


def _managed(request: HttpRequest, entry_id: Any) -> Entry:
    try:
        return selectors.managed_entry(signed_in_user(request), entry_id)
    except Entry.DoesNotExist:
        raise Http404 from None


@login_required
@require_GET
def share_dialog(request: HttpRequest, entry_id: str) -> HttpResponse:
    try:
        entry = _managed(request, entry_id)
    except PermissionDenied:
        return render(request, "sharing/not_yours.html")  # shown inside the dialog
    return _dialog(request, entry)


@login_required
@require_POST
def share_with_person(request: HttpRequest, entry_id: str) -> HttpResponse:
    entry = _managed(request, entry_id)
    form = PersonShareForm(request.POST, auto_id="share-%s")
    if not form.is_valid():
        return _dialog(request, entry, person_form=form, status=422)
    try:
        created = services.create_share(
            actor=signed_in_user(request), entry_id=entry.id, client=ClientInfo.from_request(request),
            grantee=form.cleaned_data["grantee"], permission=form.cleaned_data["permission"],
            expires_at=form.cleaned_data.get("expires_at"),
        )  # fmt: skip
    except ValidationError as error:
        _add_errors(form, error)
        return _dialog(request, entry, person_form=form, status=422)
    grantee = created.share.grantee
    name = grantee.username if grantee else ""
    return _dialog(request, entry, notice=f"Shared with {name}. They see it under “Shared with me”.")


@login_required
@require_POST
def create_link(request: HttpRequest, entry_id: str) -> HttpResponse:
    entry = _managed(request, entry_id)
    form = LinkForm(request.POST, auto_id="link-%s")
    if not form.is_valid():
        return _dialog(request, entry, link_form=form, status=422)
    data = form.cleaned_data
    try:
        created = services.create_share(
            actor=signed_in_user(request), entry_id=entry.id, link=True, client=ClientInfo.from_request(request),
            expires_at=data.get("expires_at"), max_access_count=data.get("max_access_count"),
            passphrase=data.get("passphrase") or None, is_reveal_allowed=bool(data.get("is_reveal_allowed")),
        )  # fmt: skip
    except ValidationError as error:
        _add_errors(form, error)
        return _dialog(request, entry, link_form=form, status=422)
    url = request.build_absolute_uri(reverse("sharing:link", args=[created.token]))
    response = _dialog(request, entry, new_link=url)
    response["Cache-Control"] = "no-store"  # the link's token is on this page, once
    return response


@login_required
@require_POST
def revoke(request: HttpRequest, share_id: str) -> HttpResponse:
    user = signed_in_user(request)
    try:
        share = services.revoke_share(actor=user, share_id=share_id, client=ClientInfo.from_request(request))
    except Share.DoesNotExist:
        raise Http404 from None
    if share.grantee_id == user.id:  # a grantee leaving a share: back to their list
        messages.success(request, f"“{share.entry.title}” is no longer shared with you.")
        return redirect("share-ui:shared-with-me")
    what = "The link no longer opens." if share.is_link else "They no longer have access."
    return _dialog(request, share.entry, notice=f"Revoked. {what}")


@login_required
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    """People to share with, as the person types: usernames that start with the text, or the
    one account whose whole e-mail address it is (addresses are not guessable by prefix)."""
    typed = request.GET.get("grantee", "").strip()[:254]
    found: list[User] = []
    if len(typed) >= 2:
        user = signed_in_user(request)
        found = list(
            User.objects.filter(is_active=True)
            .filter(Q(username__istartswith=typed) | Q(email__iexact=typed))
            .exclude(id=user.id)
            .order_by("username")[:PEOPLE_SUGGESTIONS]
        )
    return render(request, "sharing/people.html", {"people": found, "typed": typed})


@login_required
@require_GET
def shared_with_me(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    data = ListFilters(request.GET).values()
    entries = selectors.shared_with_me(
        reader=user,
        types=[data["type"]] if data.get("type") else (),
        statuses=STATUS_VIEWS[data.get("status") or "all"][1],
    ).order_by("-updated_at", "-id")[:200]
    context = {"entries": entries, "types": TYPES, "filters": data}
    return render(request, "sharing/shared_with_me.html", context)


app_name = "share-ui"
urlpatterns = [
    path("entries/<uuid:entry_id>/share/", share_dialog, name="dialog"),
    path("entries/<uuid:entry_id>/share/person/", share_with_person, name="share-person"),
    path("entries/<uuid:entry_id>/share/link/", create_link, name="create-link"),
    path("shares/<uuid:share_id>/revoke/", revoke, name="revoke"),
    path("sharing/people/", people, name="people"),
    path("shared/", shared_with_me, name="shared-with-me"),
]
