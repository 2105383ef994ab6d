"""Camera calibrations in the JetStream key-value bucket ``calibration``: put, get, watch.

One key per camera id; the value is a :class:`~courtside_contracts.analytics_calibration.CalibrationRecord`
and the key's revision is the calibration's version (the bucket keeps :data:`HISTORY`
revisions, so the last few can be read back). File storage: it survives restarts of
the server and is shared by every replica. nats-py errors become :class:`CalibrationStoreError`
here, with what to check.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.errors import ContractError
from courtside_contracts.names import validate_name
from courtside_contracts.subjects import CALIBRATION_BUCKET
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

#: Revisions kept per camera.
HISTORY = 16
#: Largest stored record (bytes): 64 points of short names fit in a few KiB.
MAX_VALUE_BYTES = 64 * 1024


class CalibrationStoreError(RuntimeError):
    """The key-value store could not be opened, read or written."""


class CalibrationStore:
    """The ``calibration`` bucket (open it with :meth:`open`)."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    @classmethod
    async def open(cls, nc: NATS) -> CalibrationStore:
        """Open the bucket, creating it when it does not exist yet (any process may)."""
        js = nc.jetstream()
        try:
            try:
                kv = await js.create_key_value(KeyValueConfig(
                    bucket=CALIBRATION_BUCKET, description="Courtside camera calibrations (clicked court points)",
                    history=HISTORY, max_value_size=MAX_VALUE_BYTES, storage=StorageType.FILE))
            except BadRequestError:  # it exists, with another configuration: use it as it is
                kv = await js.key_value(CALIBRATION_BUCKET)
        except (NatsError, asyncio.TimeoutError) as exc:
            raise CalibrationStoreError(f"cannot open the JetStream key-value bucket {CALIBRATION_BUCKET}: {exc} "
                                        "(is JetStream enabled on the server? run it with -js)") from None
        return cls(kv)

    async def put(self, record: CalibrationRecord) -> int:
        """Store ``record`` under its camera; returns the new revision."""
        try:
            return int(await self._kv.put(record.camera, record.to_json()))
        except (NatsError, asyncio.TimeoutError) as exc:
            raise CalibrationStoreError(f"cannot store the calibration of {record.camera}: {exc}") from None

    async def create(self, record: CalibrationRecord) -> int | None:
        """Store ``record`` only when its camera has no calibration (never stored, or deleted): the new
        revision, or None when one is stored already (and stays as it is)."""
        try:
            return int(await self._kv.create(record.camera, record.to_json()))
        except KeyWrongLastSequenceError:
            return None
        except (NatsError, asyncio.TimeoutError) as exc:
            raise CalibrationStoreError(f"cannot store the calibration of {record.camera}: {exc}") from None

    async def get(self, camera: str) -> tuple[CalibrationRecord, int] | None:
        """The camera's current record and revision; None when it has none. A stored value that is
        not a valid record raises :class:`~courtside_contracts.errors.ContractError`."""
        validate_name(camera, "camera")
        try:
            entry = await self._kv.get(camera)
        except (KeyNotFoundError, KeyDeletedError):
            return None
        except (NatsError, asyncio.TimeoutError) as exc:
            raise CalibrationStoreError(f"cannot read the calibration of {camera}: {exc}") from None
        if entry.value is None or entry.revision is None:
            return None
        return CalibrationRecord.from_json(entry.value), int(entry.revision)

    async def watch(self) -> AsyncIterator[tuple[str, CalibrationRecord | ContractError | None, int] | None]:
        """Every camera's current record, then None (the current ones are all told), then each change as
        it happens: ``(camera, record, revision)``; the record is None when deleted, a
        :class:`ContractError` when the stored value is not valid."""
        try:
            watcher = await self._kv.watchall()
        except (NatsError, asyncio.TimeoutError) as exc:
            raise CalibrationStoreError(f"cannot watch the bucket {CALIBRATION_BUCKET}: {exc}") from None
        try:
            async for entry in watcher:
                if entry is None:  # the end of the initial values
                    yield None
                    continue
                revision = int(entry.revision or 0)
                if entry.operation in ("DEL", "PURGE") or not entry.value:
                    yield entry.key, None, revision
                    continue
                try:
                    yield entry.key, CalibrationRecord.from_json(entry.value), revision
                except ContractError as exc:
                    yield entry.key, exc, revision
        finally:
            with contextlib.suppress(NatsError):  # the connection may be closed already
                await watcher.stop()  # type: ignore[no-untyped-call]
