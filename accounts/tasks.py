import uuid

from celery import shared_task

from accounts import sessions
from accounts.emails import send_password_reset_email


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset_email_task(user_id: str) -> None:
    send_password_reset_email(user_id=user_id)


@shared_task(ignore_result=True, autoretry_for=(sessions.SessionsUnavailable,), retry_backoff=True, max_retries=None)
def end_sessions_task(user_id: str, keep: str | None = None) -> None:
    """End a user's sessions once DynamoDB answers again (after a password change or reset)."""
    sessions.delete_for_user(uuid.UUID(user_id), keep=keep)
