"""Publishing packs to S3: versions, the current pointer, CDN fallbacks, rollback."""
