from django.apps import AppConfig


class PersonalpodConfig(AppConfig):
    name = "personalpod"
    verbose_name = "PersonalPod"

    def ready(self) -> None:
        from personalpod import cache  # noqa: F401 - registers the cache table
