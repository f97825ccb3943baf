from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: backups proven to restore, and consistency checks across the stores.

    An app of its own, above every other (it reads entries, sharing and sync to check them),
    because it has a table (the backup and verification history /metrics reports) and Celery
    tasks; the project package `personalpod` sits at the bottom and may import none of them.
    """

    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from ops import backups
        from personalpod import metrics

        metrics.collectors.append(backups.backup_gauges)
