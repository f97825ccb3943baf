"""Small helpers the forms and pages call with htmx: Markdown preview, password generator,
authenticator codes."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from entries import generator, markdown, selectors
from entries.crypto import envelope
from entries.totp import current_code
from entries.views.common import actor, client, no_store


@login_required
@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    text = request.POST.get("content", "")[:1_000_000]
    return render(request, "entries/partials/preview.html", {"html": markdown.render(text)})


class GeneratorForm(forms.Form):
    length = forms.IntegerField(min_value=8, max_value=128, required=False)
    symbols = forms.BooleanField(required=False)
    mode = forms.ChoiceField(choices=[("password", "password"), ("passphrase", "passphrase")], required=False)


@login_required
@require_GET
def generate_password(request: HttpRequest) -> HttpResponse:
    """A new password in the form's password input (shown, so the person sees what they got)."""
    form = GeneratorForm(request.GET)
    form.is_valid()
    options = form.cleaned_data
    if options.get("mode") == "passphrase":
        value, bits = generator.passphrase(5, separator="-", capitalize=False)
    else:
        length = options.get("length") or 20
        # The form sends its length and, only when ticked, "symbols": with options, an absent
        # box is an unticked one; with none at all, symbols are in.
        symbols = bool(options.get("symbols")) if request.GET else True
        value, bits = generator.password(length, lowercase=True, uppercase=True, digits=True, symbols=symbols)
    context = {"value": value, "bits": bits}
    return no_store(render(request, "entries/partials/generated.html", context))


@login_required
@require_POST
def totp(request: HttpRequest, entry_id: str) -> HttpResponse:
    """The entry's authenticator code now (reading its seed is a logged reveal)."""
    entry = selectors.entry_for_reader(reader=actor(request), entry_id=entry_id)
    try:
        code = current_code(actor=actor(request), entry_id=entry.id, client=client(request))
    except (ValidationError, envelope.DecryptionFailed):
        return render(request, "entries/partials/reveal_failed.html", status=422)
    context = {"entry": entry, "code": code, "copy": request.POST.get("copy") == "1"}
    return no_store(render(request, "entries/partials/totp.html", context))
