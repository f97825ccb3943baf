"""The entries write path. Views, tasks, commands and the admin call these and nothing else."""

from entries.services.bulk import MAX_BULK, bulk_change
from entries.services.common import VersionConflict
from entries.services.entries import create_entry, update_entry
from entries.services.housekeeping import purge_trash, trash_expired_entries
from entries.services.lifecycle import delete_entry_forever, restore_version, set_status
from entries.services.organize import (
    create_category,
    create_starter_categories,
    create_tag,
    delete_category,
    delete_tag,
    update_category,
    update_tag,
)

__all__ = [
    "MAX_BULK",
    "VersionConflict",
    "bulk_change",
    "create_category",
    "create_entry",
    "create_starter_categories",
    "create_tag",
    "delete_category",
    "delete_entry_forever",
    "delete_tag",
    "purge_trash",
    "restore_version",
    "set_status",
    "trash_expired_entries",
    "update_category",
    "update_entry",
    "update_tag",
]
