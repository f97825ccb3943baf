from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    """Data portability: a person's whole vault out (export) and other tools' data in (import)."""

    name = "portability"
    verbose_name = "Export and import"
