from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import dynamo, schema  # noqa: F401 - registers the sessions table and the API's auth schemes
