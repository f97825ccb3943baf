from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "Sync"

    def ready(self) -> None:
        from accounts.services import device_signed_in_hooks
        from entries.feed import committed_hooks
        from personalpod import metrics
        from sync import dynamo  # noqa: F401 - registers the sync queue table
        from sync.devices import device_signed_in
        from sync.selectors import sync_gauges
        from sync.tasks import publish_after_commit

        # Every committed write queues a publish of the feeds it grew.
        if publish_after_commit not in committed_hooks:
            committed_hooks.append(publish_after_commit)
        # A device sign-in creates or reuses the Device its sessions name.
        if device_signed_in not in device_signed_in_hooks:
            device_signed_in_hooks.append(device_signed_in)
        if sync_gauges not in metrics.collectors:
            metrics.collectors.append(sync_gauges)
