"""Models for sharing: filled in by its issue."""
