"""The content service's own Prometheus metrics (served on /metrics with the platform's)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

UPLOADS = Counter(
    "content_uploads_total",
    "Lesson body uploads: stored in S3, refused (too large, not UTF-8 or empty) or failed",
    ["outcome"],
)
UPLOAD_BYTES = Counter("content_upload_bytes_total", "Bytes of lesson bodies stored in S3")
UPLOAD_SECONDS = Histogram("content_upload_duration_seconds", "Time to store one body in S3")
DOWNLOAD_BYTES = Counter("content_download_bytes_total", "Bytes of lesson bodies served")
