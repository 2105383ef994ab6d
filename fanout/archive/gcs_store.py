"""The ``gcs`` backend: Google Cloud Storage through ``google-cloud-storage``; its error boundary.

Credentials come from the environment (Application Default Credentials); with
``STORAGE_EMULATOR_HOST`` set (fake-gcs-server in tests) the client talks to the
emulator with anonymous credentials. Uploads send their CRC-32C and use
``if_generation_match=0``: an object is created once and never overwritten, so a
redelivered segment finds its object and verifies it instead.
"""

from __future__ import annotations

import base64
import datetime
import os
from collections.abc import Iterator, Mapping

from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from fanout.archive.store import (
    ArchiveError,
    ArchiveNotFound,
    ArchiveStore,
    ArchiveUnavailable,
    ObjectStat,
)

#: Seconds one request may take before it counts as a failure (retried by the archiver).
TIMEOUT_S = 30.0
#: The client's own retries: few and short (its default keeps trying for 120 s); the
#: archiver's backoff does the rest.
RETRY = DEFAULT_RETRY.with_timeout(3.0)


def _translate(exc: Exception, what: str) -> ArchiveError:
    if isinstance(exc, gexc.NotFound):
        return ArchiveNotFound(f"{what}: not found")
    if isinstance(exc, (gexc.Forbidden, gexc.Unauthorized)):
        return ArchiveError(f"{what}: access refused ({type(exc).__name__}; check the credentials and "
                            "the bucket's permissions)")
    if isinstance(exc, gexc.GoogleAPICallError):
        return ArchiveUnavailable(f"{what}: {type(exc).__name__} {getattr(exc, 'code', '')}".strip())
    return ArchiveUnavailable(f"{what}: {type(exc).__name__} (is GCS or the emulator reachable?)")


def lifecycle_rules(prefix_days: Mapping[str, float]) -> list[dict[str, object]]:
    """One Delete rule per camera prefix; GCS ages are whole days, so at least 1."""
    return [{"action": {"type": "Delete"}, "condition": {"age": max(1, round(days)), "matchesPrefix": [prefix]}}
            for prefix, days in sorted(prefix_days.items())]


def _crc(blob: storage.Blob) -> int:
    return int.from_bytes(base64.b64decode(blob.crc32c), "big") if blob.crc32c else -1


class GcsStore(ArchiveStore):
    kind = "gcs"

    def __init__(self, bucket: str, project: str | None = None, *, create: bool = False) -> None:
        if os.environ.get("STORAGE_EMULATOR_HOST"):
            self.client = storage.Client(project=project or "courtside-test", credentials=AnonymousCredentials())  # type: ignore[no-untyped-call]
        else:
            self.client = storage.Client(project=project)
        self.bucket = self.client.bucket(bucket)
        if create:
            try:
                self.client.create_bucket(bucket, timeout=TIMEOUT_S, retry=RETRY)
            except gexc.Conflict:
                pass
            except Exception as exc:
                raise _translate(exc, f"create bucket {bucket}") from None

    def put_new(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> ObjectStat:
        blob = self.bucket.blob(key)
        blob.metadata = dict(metadata)
        try:
            blob.upload_from_string(data, content_type=content_type, if_generation_match=0,
                                    checksum="crc32c", timeout=TIMEOUT_S, retry=RETRY)
        except gexc.PreconditionFailed:
            return self.verify_new(key, data, self.stat(key))
        except Exception as exc:
            raise _translate(exc, f"upload {key}") from None
        return self.verify_new(key, data, ObjectStat(key, int(blob.size or 0), _crc(blob), blob.metadata or {}))

    def stat(self, key: str) -> ObjectStat | None:
        try:
            blob = self.bucket.get_blob(key, timeout=TIMEOUT_S, retry=RETRY)
        except Exception as exc:
            raise _translate(exc, f"stat {key}") from None
        if blob is None:
            return None
        return ObjectStat(key, int(blob.size or 0), _crc(blob), dict(blob.metadata or {}))

    def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        try:
            data: bytes = self.bucket.blob(key).download_as_bytes(
                start=start, end=None if end is None else end - 1, timeout=TIMEOUT_S, retry=RETRY,
                checksum=None if start or end is not None else "crc32c")
        except Exception as exc:
            raise _translate(exc, f"read {key}") from None
        return data

    def list(self, prefix: str) -> Iterator[ObjectStat]:
        try:
            blobs = list(self.client.list_blobs(self.bucket, prefix=prefix, timeout=TIMEOUT_S, retry=RETRY))
        except Exception as exc:
            raise _translate(exc, f"list {prefix}") from None
        for blob in blobs:
            yield ObjectStat(blob.name, int(blob.size or 0), _crc(blob))

    def delete(self, key: str) -> None:
        try:
            self.bucket.blob(key).delete(timeout=TIMEOUT_S, retry=RETRY)
        except gexc.NotFound:
            pass
        except Exception as exc:
            raise _translate(exc, f"delete {key}") from None

    def signed_url(self, key: str, ttl_s: int) -> str | None:
        """A V4 signed GET URL when the credentials hold a private key (a service account);
        None otherwise (user or anonymous credentials cannot sign without a network call)."""
        credentials = self.client._credentials
        if not hasattr(credentials, "sign_bytes") or isinstance(credentials, AnonymousCredentials):
            return None
        try:
            url: str = self.bucket.blob(key).generate_signed_url(
                version="v4", expiration=datetime.timedelta(seconds=ttl_s), method="GET")
        except Exception:  # credentials that cannot sign locally: stream instead
            return None
        return url

    def apply_retention(self, prefix_days: Mapping[str, float]) -> bool:
        """Replace the bucket's lifecycle rules with :func:`lifecycle_rules` (clips are not matched)."""
        try:
            self.bucket.reload(timeout=TIMEOUT_S, retry=RETRY)
            self.bucket.lifecycle_rules = lifecycle_rules(prefix_days)
            self.bucket.patch(timeout=TIMEOUT_S, retry=RETRY)
        except Exception as exc:
            raise _translate(exc, "set the bucket's lifecycle rules") from None
        return True
