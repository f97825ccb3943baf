"""E-mails to account holders."""

import uuid

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User


def send_password_reset_email(*, user_id: str | uuid.UUID) -> None:
    user = User.objects.filter(id=user_id, is_active=True).first()
    if user is None:
        return
    uidb64 = urlsafe_base64_encode(force_bytes(str(user.id)))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password-reset-confirm", kwargs={"uidb64": uidb64, "token": token})
    context = {
        "user": user,
        "reset_url": settings.PUBLIC_URL.rstrip("/") + path,
        "uid": uidb64,
        "token": token,
        "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    send_mail(
        subject="Reset your PersonalPod password",
        message=render_to_string("accounts/email/password_reset.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
