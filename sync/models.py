"""Models for sync: filled in by its issue."""
