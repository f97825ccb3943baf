"""The accounts web pages: thin views over the same services as the API."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services, sessions, throttle
from accounts.forms import (
    ApiTokenForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    ProfileForm,
    SetPasswordForm,
    SignUpForm,
    add_service_errors,
)
from accounts.models import ApiToken, User, signed_in_user
from personalpod.http import ClientInfo

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _signed_in(request: HttpRequest, user: User) -> None:
    login(request, user, backend=BACKEND)
    services.record_browser_sign_in(
        user=user, session_id=sessions.current_session_id(request), client=ClientInfo.from_request(request)
    )


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return "/"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(**form.cleaned_data, client=ClientInfo.from_request(request))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            _signed_in(request, user)
            messages.success(request, "Welcome to PersonalPod.")
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                user = services.authenticate_credentials(**form.cleaned_data, client=ClientInfo.from_request(request))
            except throttle.SignInLocked as locked:
                form.add_error(None, f"Too many failed attempts. Try again in {locked.retry_after // 60 + 1} minutes.")
                response = render(
                    request, "accounts/login.html", {"form": form, "next": _next_url(request)}, status=429
                )
                response["Retry-After"] = str(locked.retry_after)
                return response
            except services.InvalidCredentials:
                form.add_error(None, "Wrong e-mail address or password.")
            else:
                _signed_in(request, user)
                return redirect(_next_url(request))
    return render(request, "accounts/login.html", {"form": form, "next": _next_url(request)}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if isinstance(request.user, User):
        services.record_sign_out(
            user=request.user, session_id=sessions.current_session_id(request), client=ClientInfo.from_request(request)
        )
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ended = services.change_password(
                user=user,
                keep_session=sessions.current_session_id(request),
                client=ClientInfo.from_request(request),
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except throttle.SignInLocked as locked:
            form.add_error(None, f"Too many wrong passwords. Try again in {locked.retry_after // 60 + 1} minutes.")
        else:
            update_session_auth_hash(request, user)
            signed_out = ngettext(
                "%(count)d other session was signed out.", "%(count)d other sessions were signed out.", ended
            )
            messages.success(request, "Password changed. " + signed_out % {"count": ended})
            return redirect("accounts:sessions")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.request_password_reset(email=form.cleaned_data["email"], client=ClientInfo.from_request(request))
        return render(request, "accounts/password_reset_sent.html")
    return render(request, "accounts/password_reset.html", {"form": form})


RESET_TOKEN_SESSION_KEY = "_password_reset_token"  # noqa: S105 - a session key's name
SET_PASSWORD = "set-password"  # noqa: S105 - the URL segment that stands in for the token


@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    if token != SET_PASSWORD:
        # Move the token from the URL into the session before showing any page, so that it
        # cannot leak through the Referer header or the browser history (as Django does).
        request.session[RESET_TOKEN_SESSION_KEY] = token
        return redirect("accounts:password-reset-confirm", uidb64=uidb64, token=SET_PASSWORD)
    token = request.session.get(RESET_TOKEN_SESSION_KEY, "")
    if services.user_for_reset_token(uidb64, token) is None:
        return render(request, "accounts/password_reset_invalid.html", status=400)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(
                uidb64=uidb64,
                token=token,
                new_password=form.cleaned_data["new_password"],
                client=ClientInfo.from_request(request),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            request.session.pop(RESET_TOKEN_SESSION_KEY, None)
            messages.success(request, "Your password was reset. Sign in with the new one.")
            return redirect("accounts:login")
    return render(request, "accounts/password_reset_confirm.html", {"form": form})


@login_required
def sessions_page(request: HttpRequest) -> HttpResponse:
    rows = selectors.sessions_for(signed_in_user(request), current=sessions.current_session_id(request))
    return render(request, "accounts/sessions.html", {"sessions": rows})


@login_required
@require_POST
def revoke_session(request: HttpRequest, session_id: str) -> HttpResponse:
    try:
        services.revoke_session(
            user=signed_in_user(request), session_id=session_id, client=ClientInfo.from_request(request)
        )
    except services.SessionNotFound:
        raise Http404 from None
    messages.success(request, "That session is signed out.")
    return redirect("accounts:sessions")


@login_required
@require_POST
def revoke_other_sessions(request: HttpRequest) -> HttpResponse:
    ended = services.revoke_other_sessions(
        user=signed_in_user(request), keep=sessions.current_session_id(request), client=ClientInfo.from_request(request)
    )
    signed_out = ngettext("%(count)d other session signed out.", "%(count)d other sessions signed out.", ended)
    messages.success(request, signed_out % {"count": ended})
    return redirect("accounts:sessions")


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    """Personal API tokens: create one (shown once, with a copy button), see them, revoke them."""
    user = signed_in_user(request)
    form = ApiTokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                token, api_token = services.create_api_token(
                    user=user,
                    name=form.cleaned_data["name"],
                    expires_at=form.cleaned_data.get("expires_at"),
                    client=ClientInfo.from_request(request),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                created, status = {"token": token, "name": api_token.name}, 201
                form = ApiTokenForm()
    context = {"form": form, "tokens": selectors.api_tokens_for(user), "created": created}
    response = render(request, "accounts/tokens.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the new token is on this page, once
    return response


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: str) -> HttpResponse:
    try:
        api_token = services.revoke_api_token(
            user=signed_in_user(request), token_id=uuid.UUID(token_id), client=ClientInfo.from_request(request)
        )
    except (ApiToken.DoesNotExist, ValueError):
        raise Http404 from None
    messages.success(request, f"Token “{api_token.name}” revoked: it no longer works.")
    return redirect("accounts:tokens")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    initial = {"username": user.username, "timezone": user.timezone, "search_language": user.search_language}
    form = ProfileForm(request.POST or None, initial=initial, languages=services.search_languages())
    if request.method == "POST" and form.is_valid():
        changes = {name: value for name, value in form.cleaned_data.items() if value != initial[name]}
        try:
            if changes:
                services.update_profile(user=user, client=ClientInfo.from_request(request), **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Profile saved." if changes else "Nothing changed.")
            return redirect("accounts:profile")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/profile.html", {"form": form}, status=status)
