"""The spool never evicts the segment being shipped (it would be counted lost while it reaches
NATS), and a segment evicted before the shipper claims it is not shipped."""

from __future__ import annotations

from pathlib import Path

from ingest.recording.spool import Spool, SpooledSegment, SpoolLimits

S = 1_000_000_000


def _add(spool: Spool, start_s: int) -> str:
    seg_id = f"cam-{start_s * S}"
    spool.part_path(seg_id).write_bytes(b"x" * 100)
    spool.add(SpooledSegment(seg_id, "cam", start_s * S, (start_s + 2) * S, "h264", 64, 64, 0.0, 2.0, 100, 1, 0,
                             (start_s + 2) * S), (start_s + 2) * S)
    return seg_id


def test_the_segment_being_shipped_is_not_evicted(tmp_path: Path) -> None:
    dropped: list[str] = []
    spool = Spool("cam", tmp_path, SpoolLimits(1 << 30, 5.0), on_evict=lambda _c, seg, _r: dropped.append(seg))
    first, second = _add(spool, 0), _add(spool, 2)
    assert spool.begin_ship(first)
    third = _add(spool, 10)  # the first two are older than 5 s now: only the one not being shipped goes
    assert dropped == [second] and spool.evicted == 1
    assert [s.segment_id for s in spool.pending()] == [first, third]
    spool.end_ship(first)
    assert spool.enforce(12 * S) == 1 and dropped == [second, first]
    assert not spool.begin_ship(first)  # gone: the shipper skips it
