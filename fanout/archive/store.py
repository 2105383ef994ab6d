"""The archive backends behind one small interface: ``local`` (a directory) and ``gcs``.

Every method blocks (callers run it in a thread). Backend errors are translated at
each backend's boundary into :class:`ArchiveError` subclasses: ``ArchiveUnavailable``
is worth retrying, ``ArchiveConflict`` is not.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import google_crc32c


class ArchiveError(Exception):
    """The archive refused or failed an operation; the message says what and where."""


class ArchiveUnavailable(ArchiveError):
    """The backend cannot be reached or failed transiently: retry later."""


class ArchiveConflict(ArchiveError):
    """An object already exists under the name with other content: never overwritten."""


class ArchiveNotFound(ArchiveError):
    """No object of that name."""


def crc32c_of(data: bytes | memoryview) -> int:
    """CRC-32C (Castagnoli) as an unsigned int, the value GCS keeps per object."""
    return int(google_crc32c.value(bytes(data)))


def crc32c_b64(value: int) -> str:
    """GCS's form of a CRC-32C: base64 of its 4 big-endian bytes."""
    return base64.b64encode(value.to_bytes(4, "big")).decode()


@dataclass(frozen=True, slots=True)
class ObjectStat:
    """An archived object: ``size`` in bytes, ``crc32c`` unsigned, string metadata."""

    key: str
    size: int
    crc32c: int
    metadata: Mapping[str, str] = field(default_factory=dict)


class ArchiveStore(ABC):
    """A flat namespace of immutable objects addressed by ``/``-separated keys."""

    kind: str = ""

    @abstractmethod
    def put_new(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> ObjectStat:
        """Create ``key`` only if absent and return it as stored (checksum verified against ``data``).

        An existing object with the same size and CRC-32C is returned as it is (a redelivered
        segment); one with other content raises :class:`ArchiveConflict`.
        """

    @abstractmethod
    def stat(self, key: str) -> ObjectStat | None: ...

    @abstractmethod
    def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        """Bytes [start, end) of ``key`` (end exclusive; None = to the end)."""

    @abstractmethod
    def list(self, prefix: str) -> Iterator[ObjectStat]:
        """Objects whose key starts with ``prefix`` (metadata not filled)."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def signed_url(self, key: str, ttl_s: int) -> str | None:
        """A time-limited URL a browser can fetch directly; None when this backend cannot sign."""
        return None

    def apply_retention(self, prefix_days: Mapping[str, float]) -> bool:
        """Install retention as the backend's own rule (prefix -> days); False when it has none."""
        return False

    def verify_new(self, key: str, data: bytes, existing: ObjectStat | None) -> ObjectStat:
        """Shared check for :meth:`put_new`: ``existing`` must hold exactly ``data``."""
        if existing is None:
            raise ArchiveUnavailable(f"{key}: the object vanished right after it was written")
        if existing.size != len(data) or existing.crc32c != crc32c_of(data):
            raise ArchiveConflict(f"{key}: already archived with other content "
                                  f"({existing.size} bytes, crc32c {existing.crc32c:#010x})")
        return existing


class LocalStore(ArchiveStore):
    """A directory with the same layout as a bucket; metadata in ``<key>.meta`` beside each object.

    Created exclusively with ``os.link`` from a fsynced temporary file, so a crash never
    leaves a half-written object under its final name, and a second writer of the same
    key finds it instead of overwriting it.
    """

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ArchiveError(f"key {key[:80]!r} is outside the archive")
        return path

    def put_new(self, key: str, data: bytes, content_type: str, metadata: Mapping[str, str]) -> ObjectStat:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            meta = {"content_type": content_type, **metadata}
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    return self.verify_new(key, data, self.stat(key))
                Path(tmp + ".meta").write_text(json.dumps(meta))
                os.replace(tmp + ".meta", str(path) + ".meta")
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError as exc:
            raise ArchiveUnavailable(f"{key}: cannot write the archive ({exc.strerror or exc})") from None
        stored = self.stat(key)
        return self.verify_new(key, data, stored)

    def stat(self, key: str) -> ObjectStat | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ArchiveUnavailable(f"{key}: cannot read ({exc.strerror or exc})") from None
        try:
            meta = json.loads(Path(str(path) + ".meta").read_text())
        except (OSError, ValueError):
            meta = {}
        return ObjectStat(key, len(data), crc32c_of(data), {k: str(v) for k, v in meta.items()})

    def read(self, key: str, start: int = 0, end: int | None = None) -> bytes:
        try:
            with self._path(key).open("rb") as handle:
                handle.seek(start)
                return handle.read(-1 if end is None else max(0, end - start))
        except FileNotFoundError:
            raise ArchiveNotFound(f"{key}: not in the archive") from None
        except OSError as exc:
            raise ArchiveUnavailable(f"{key}: cannot read ({exc.strerror or exc})") from None

    def list(self, prefix: str) -> Iterator[ObjectStat]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".") and not path.name.endswith(".meta"):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield ObjectStat(key, path.stat().st_size, 0)

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        Path(str(path) + ".meta").unlink(missing_ok=True)
