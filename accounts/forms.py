from django import forms
from django.core.exceptions import ValidationError

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
