from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import timezone_choices

EMAIL_INPUT = forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})


class SignUpForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    username = forms.RegexField(r"^[\w.@+-]+\Z", max_length=150, min_length=2,
                                widget=forms.TextInput(attrs={"autocomplete": "username"}))  # fmt: skip
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class LoginForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class PasswordChangeForm(forms.Form):
    current_password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )


class SetPasswordForm(forms.Form):
    new_password = forms.CharField(strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    new_password_again = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict[str, str]:
        cleaned = super().clean() or {}
        if cleaned.get("new_password") != cleaned.get("new_password_again"):
            self.add_error("new_password_again", "The two passwords differ.")
        return cleaned


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's field errors on the form (unknown fields as form-wide errors)."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. “backup script”.")
    expires_at = forms.DateTimeField(
        required=False, label="Expires on", help_text="Optional; leave empty for a token that lasts until revoked.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
    )  # fmt: skip


class ProfileForm(forms.Form):
    username = forms.RegexField(r"^[\w.@+-]+\Z", max_length=150, min_length=2,
                                help_text="Letters, digits and . @ + - _ only.")  # fmt: skip
    timezone = forms.ChoiceField(label="Time zone", help_text="Dates and due times are shown in it.")
    search_language = forms.ChoiceField(
        label="Search language", help_text="How words are matched in search: stemming and stop words."
    )

    def __init__(self, *args: Any, languages: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = timezone_choices()  # type: ignore[attr-defined]
        self.fields["search_language"].choices = [(name, name.capitalize()) for name in languages]  # type: ignore[attr-defined]
