from celery import shared_task

from accounts.emails import send_password_reset_email


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset_email_task(user_id: str) -> None:
    send_password_reset_email(user_id=user_id)
