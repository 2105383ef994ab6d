"""Fragmented MP4 at the byte level: read the samples of a recorded segment, write fragments.

Pure functions over bytes (no PyAV, no I/O), so that an export of many segments is a
concatenation: the first segment's ``ftyp`` + ``moov`` (codec parameters), then every
kept sample re-emitted in fragments of our own (``moof`` with one ``traf``: ``tfhd``
default-base-is-moof, ``tfdt`` version 1, ``trun`` version 1 with every per-sample field
explicit, then its ``mdat``). Segments can be joined this way only when they share the
track: the same timescale, track id and sample entry (``stsd``: codec, SPS/PPS, size);
:func:`same_track` says so, and the caller falls back to a remux otherwise.

Units: every time here (``decode``, ``duration``, ``cto``) is in the track's timescale
(ticks per second, from ``mdhd``); a sample's presentation time is ``decode + cto``.
Only single-track (video) files are read; anything else raises :class:`Fmp4Error`.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

#: ``sample_is_non_sync_sample`` in ISO/IEC 14496-12 sample flags.
NON_SYNC = 0x00010000
#: The flags of the ``trun`` we write: data offset, then duration, size, flags and cto per sample.
TRUN_FLAGS = 0x000F01
#: ``tfhd`` default-base-is-moof: data offsets count from the start of the ``moof``.
BASE_IS_MOOF = 0x020000


class Fmp4Error(Exception):
    """The bytes are not the fragmented MP4 this module reads; the message says where."""


@dataclass(frozen=True, slots=True)
class Track:
    """The init part of a segment: ``ftyp`` and ``moov`` bytes and what must match to join."""

    ftyp: bytes
    moov: bytes
    timescale: int
    track_id: int
    sample_entry: bytes


@dataclass(frozen=True, slots=True)
class Sample:
    """One coded frame: times in track ticks, ``offset``/``size`` of its bytes in the file."""

    decode: int
    duration: int
    cto: int
    flags: int
    offset: int
    size: int

    @property
    def sync(self) -> bool:
        return not self.flags & NON_SYNC

    @property
    def presentation(self) -> int:
        return self.decode + self.cto


@dataclass(frozen=True, slots=True)
class Parsed:
    """A segment: its track and its samples, fragment by fragment, in decode order."""

    track: Track
    fragments: tuple[tuple[Sample, ...], ...]

    @property
    def samples(self) -> list[Sample]:
        return [s for fragment in self.fragments for s in fragment]


def _boxes(data: bytes | memoryview, start: int, end: int, where: str) -> list[tuple[str, int, int]]:
    """(kind, payload start, box end) of the boxes in data[start:end]."""
    out = []
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise Fmp4Error(f"{where}: truncated box header at byte {pos}")
        size = int.from_bytes(data[pos:pos + 4], "big")
        kind = bytes(data[pos + 4:pos + 8]).decode("latin-1")
        head = 8
        if size == 1:
            if pos + 16 > end:
                raise Fmp4Error(f"{where}: truncated 64-bit box size at byte {pos}")
            size, head = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise Fmp4Error(f"{where}: box {kind!r} at byte {pos} overruns its parent")
        out.append((kind, pos + head, pos + size))
        pos += size
    return out


def _child(data: bytes | memoryview, start: int, end: int, kind: str, where: str) -> tuple[int, int]:
    found = [(s, e) for k, s, e in _boxes(data, start, end, where) if k == kind]
    if len(found) != 1:
        raise Fmp4Error(f"{where}: expected one {kind!r} box, found {len(found)}")
    return found[0]


def _u32(data: bytes | memoryview, pos: int) -> int:
    return int.from_bytes(data[pos:pos + 4], "big")


def _track(data: bytes | memoryview, ftyp: tuple[int, int], moov: tuple[int, int]) -> tuple[Track, tuple[int, ...]]:
    """The track and its ``trex`` defaults (description index, duration, size, flags).
    ``ftyp``/``moov``: (box start, box end) of the two boxes."""
    moov_payload = moov[0] + 8
    traks = [(s, e) for k, s, e in _boxes(data, moov_payload, moov[1], "moov") if k == "trak"]
    if len(traks) != 1:
        raise Fmp4Error(f"moov: expected one track, found {len(traks)}")
    trak = traks[0]
    tkhd, _ = _child(data, *trak, "tkhd", "trak")
    track_id = _u32(data, tkhd + (20 if data[tkhd] == 1 else 12))
    mdia = _child(data, *trak, "mdia", "trak")
    mdhd, _ = _child(data, *mdia, "mdhd", "mdia")
    timescale = _u32(data, mdhd + (20 if data[mdhd] == 1 else 12))
    stbl = _child(data, *_child(data, *mdia, "minf", "mdia"), "stbl", "minf")
    stsd = _child(data, *stbl, "stsd", "stbl")
    mvex = _child(data, moov_payload, moov[1], "mvex", "moov")
    defaults: tuple[int, ...] = (1, 0, 0, 0)
    for kind, s, _e in _boxes(data, *mvex, "mvex"):
        if kind == "trex" and _u32(data, s + 4) == track_id:
            defaults = tuple(_u32(data, s + 8 + 4 * i) for i in range(4))
    if timescale == 0:
        raise Fmp4Error("mdhd: timescale 0")
    return Track(bytes(data[ftyp[0]:ftyp[1]]), bytes(data[moov[0]:moov[1]]), timescale, track_id,
                 bytes(data[stsd[0]:stsd[1]])), defaults


def parse(data: bytes | memoryview) -> Parsed:
    """The track and samples of a segment ``ftyp moov (moof mdat)* [mfra]``."""
    top = _boxes(data, 0, len(data), "file")
    kinds = [k for k, _s, _e in top]
    if kinds[:2] != ["ftyp", "moov"] or top[1][1] - 8 != top[0][2]:
        raise Fmp4Error(f"file: starts with {kinds[:2]}, not ftyp moov")
    track, trex = _track(data, (0, top[0][2]), (top[0][2], top[1][2]))
    fragments = []
    for kind, start, end in top[2:]:
        if kind == "moof":  # an 8-byte header: a moof is never 4 GiB
            fragments.append(tuple(_fragment(data, start - 8, start, end, track.track_id, trex, len(data))))
    return Parsed(track, tuple(fragments))


def _fragment(data: bytes | memoryview, moof_at: int, start: int, end: int, track_id: int,
              trex: tuple[int, ...], size: int) -> list[Sample]:
    trafs = [(s, e) for k, s, e in _boxes(data, start, end, "moof") if k == "traf"]
    if len(trafs) != 1:
        raise Fmp4Error(f"moof at byte {moof_at}: expected one traf, found {len(trafs)}")
    children = _boxes(data, *trafs[0], "traf")
    tfhd = next(((s, e) for k, s, e in children if k == "tfhd"), None)
    tfdt = next(((s, e) for k, s, e in children if k == "tfdt"), None)
    if tfhd is None or tfdt is None:
        raise Fmp4Error(f"moof at byte {moof_at}: traf without tfhd or tfdt")
    flags = _u32(data, tfhd[0]) & 0xFFFFFF
    if _u32(data, tfhd[0] + 4) != track_id:
        raise Fmp4Error(f"moof at byte {moof_at}: a fragment of another track")
    pos = tfhd[0] + 8
    base = moof_at
    if flags & 0x1:
        base = int.from_bytes(data[pos:pos + 8], "big")
        pos += 8
    if flags & 0x2:
        pos += 4  # sample description index: one track, one entry
    duration, sample_size, sample_flags = trex[1], trex[2], trex[3]
    for bit in (0x8, 0x10, 0x20):
        if flags & bit:
            value = _u32(data, pos)
            pos += 4
            if bit == 0x8:
                duration = value
            elif bit == 0x10:
                sample_size = value
            else:
                sample_flags = value
    decode = int.from_bytes(data[tfdt[0] + 4:tfdt[1]], "big")
    samples: list[Sample] = []
    cursor = base
    for kind, s, e in children:
        if kind != "trun":
            continue
        version, tflags = data[s], _u32(data, s) & 0xFFFFFF
        count = _u32(data, s + 4)
        pos = s + 8
        if tflags & 0x1:
            cursor = base + struct.unpack(">i", bytes(data[pos:pos + 4]))[0]
            pos += 4
        first_flags = None
        if tflags & 0x4:
            first_flags = _u32(data, pos)
            pos += 4
        fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if tflags & bit]
        if pos + 4 * len(fields) * count > e:
            raise Fmp4Error(f"moof at byte {moof_at}: trun of {count} samples overruns its box")
        for i in range(count):
            d, n, f, c = duration, sample_size, sample_flags, 0
            if i == 0 and first_flags is not None:
                f = first_flags
            for bit in fields:
                raw = bytes(data[pos:pos + 4])
                pos += 4
                if bit == 0x100:
                    d = int.from_bytes(raw, "big")
                elif bit == 0x200:
                    n = int.from_bytes(raw, "big")
                elif bit == 0x400:
                    f = int.from_bytes(raw, "big")
                else:
                    c = struct.unpack(">i" if version else ">I", raw)[0]
            if cursor < 0 or cursor + n > size:
                raise Fmp4Error(f"moof at byte {moof_at}: sample {i} lies outside the file")
            samples.append(Sample(decode, d, c, f, cursor, n))
            decode += d
            cursor += n
    return samples


def same_track(a: Track, b: Track) -> bool:
    """Whether samples of ``b`` can follow those of ``a`` under ``a``'s moov."""
    return (a.timescale, a.track_id, a.sample_entry) == (b.timescale, b.track_id, b.sample_entry)


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def init_segment(track: Track) -> bytes:
    """``ftyp`` + ``moov`` of the output (the first segment's, unchanged)."""
    return track.ftyp + track.moov


@dataclass(frozen=True, slots=True)
class OutSample:
    """A sample placed in the output: ``decode`` (>= 0) and signed ``cto`` in track ticks."""

    decode: int
    duration: int
    cto: int
    flags: int
    data: bytes | memoryview


def fragment_size(samples: Sequence[OutSample]) -> int:
    """Bytes :func:`fragment` makes of ``samples``: moof (mfhd 16, traf 8 + tfhd 16 + tfdt 20 +
    trun 20 + 16 per sample) + mdat (8 + the samples)."""
    return 8 + 16 + 8 + 16 + 20 + 20 + 16 * len(samples) + 8 + sum(len(s.data) for s in samples)


def fragment(sequence: int, track_id: int, samples: Sequence[OutSample]) -> bytes:
    """One ``moof`` + ``mdat`` holding ``samples`` (contiguous in decode time, at least one)."""
    if not samples:
        raise ValueError("a fragment needs at least one sample")
    first = samples[0].decode
    if first < 0:
        raise ValueError(f"decode time {first} before the start of the file")
    table = b"".join(struct.pack(">IIIi", s.duration, len(s.data), s.flags, s.cto) for s in samples)
    mfhd = _box(b"mfhd", struct.pack(">II", 0, sequence))
    tfhd = _box(b"tfhd", struct.pack(">II", BASE_IS_MOOF, track_id))
    tfdt = _box(b"tfdt", struct.pack(">IQ", 1 << 24, first))
    trun_size = 8 + 12 + len(table)
    moof_size = 8 + len(mfhd) + 8 + len(tfhd) + len(tfdt) + trun_size
    trun = _box(b"trun", struct.pack(">IIi", (1 << 24) | TRUN_FLAGS, len(samples), moof_size + 8), table)
    moof = _box(b"moof", mfhd, _box(b"traf", tfhd, tfdt, trun))
    assert len(moof) == moof_size
    payload_size = sum(len(s.data) for s in samples)
    return b"".join([moof, struct.pack(">I", 8 + payload_size), b"mdat", *(s.data for s in samples)])
