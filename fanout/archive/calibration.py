"""A camera's court calibration for a segment's sidecar header, read from the key-value bucket.

Read-only: the archiver opens the existing ``calibration`` bucket (never creates it: that is the
analytics service's, ``analytics/calibration_store.py``) and gets the camera's current entry, the
one in force when the segment is archived (seconds after its end). The header gets
``{"revision": <the key's revision, the calibration's version>, "record": <the stored record as
:class:`~courtside_contracts.analytics_calibration.CalibrationRecord` writes it>}``, or None when the
camera has none.

Nothing here fails an archive: a missing bucket or key is "no calibration" (None); a stored value
that is not a valid record, a refused read (a user without the key-value permission) or a timeout
is logged and reported as :class:`Unreadable` so the archiver counts it, and the header says null.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from courtside_contracts.analytics_calibration import CalibrationRecord
from courtside_contracts.errors import ContractError
from courtside_contracts.subjects import CALIBRATION_BUCKET
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError

#: Seconds one key-value request may take before the header goes without the calibration.
TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Unreadable:
    """The calibration could not be read or is not a valid record; ``why`` says which."""

    why: str


def header_value(stored: bytes | None, revision: int | None) -> dict[str, Any] | Unreadable | None:
    """The header's ``calibration`` for one stored entry (pure): None when there is none."""
    if not stored or revision is None:
        return None
    try:
        record = CalibrationRecord.from_json(stored)
    except ContractError as exc:
        return Unreadable(f"revision {revision} is not a calibration record: {exc}")
    return {"revision": int(revision), "record": json.loads(record.to_json())}


async def read_calibration(nc: NATS, camera: str) -> dict[str, Any] | Unreadable | None:
    """The camera's calibration for the header: the value, None (no bucket, no key, deleted) or
    :class:`Unreadable` (logged by the caller with the camera)."""
    js = nc.jetstream(timeout=TIMEOUT_S)
    try:
        kv = await js.key_value(CALIBRATION_BUCKET)
        entry = await kv.get(camera)
    except NotFoundError:  # no bucket, no key, or a deleted one: not calibrated
        return None
    except (NatsError, asyncio.TimeoutError) as exc:
        return Unreadable(f"cannot read the {CALIBRATION_BUCKET} bucket: {type(exc).__name__}: {exc}")
    return header_value(entry.value, entry.revision)
