"""Files attached to entries: stored on S3 or the filesystem, checksummed, thumbnailed."""
