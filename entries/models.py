"""Models for entries: filled in by its issue."""
