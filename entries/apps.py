from django.apps import AppConfig


class EntriesConfig(AppConfig):
    name = "entries"
    verbose_name = "Entries"

    def ready(self) -> None:
        from accounts.services import user_created_hooks
        from entries import dynamo  # noqa: F401 - registers the search index table
        from entries.services import create_starter_categories

        if create_starter_categories not in user_created_hooks:
            user_created_hooks.append(create_starter_categories)

        from entries.attachments.selectors import flagged_file_gauges
        from personalpod import metrics

        if flagged_file_gauges not in metrics.collectors:
            metrics.collectors.append(flagged_file_gauges)
