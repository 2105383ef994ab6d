"""The byte-level fMP4 reader and writer with plain, hand-built boxes: defaults from trex and
tfhd, first-sample flags, composition offsets, explicit base offsets, and every malformed
shape refused with where it broke."""

from __future__ import annotations

import struct

import pytest

from fanout.archive import fmp4

TRACK = 1
SYNC, NON_SYNC = 0x02000000, 0x01010000


def box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def init(timescale: int = 90_000, track_id: int = TRACK, entry: bytes = b"avc1-params",
         trex: tuple[int, int, int, int] = (1, 3000, 0, NON_SYNC), tracks: int = 1) -> bytes:
    tkhd = full(b"tkhd", 0, 3, struct.pack(">III", 0, 0, track_id), bytes(68))
    mdhd = full(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, timescale, 0), bytes(4))
    stsd = full(b"stsd", 0, 0, struct.pack(">I", 1), box(b"avc1", entry))
    stbl = box(b"stbl", stsd)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, box(b"minf", stbl)))
    mvex = box(b"mvex", full(b"trex", 0, 0, struct.pack(">IIIII", track_id, *trex)))
    moov = box(b"moov", full(b"mvhd", 0, 0, bytes(96)), *([trak] * tracks), mvex)
    return box(b"ftyp", b"iso5", bytes(4), b"iso6mp41") + moov


def moof_mdat(seq: int, decode: int, payloads: list[bytes], *, tfhd_flags: int = 0x020000,
              tfhd_extra: bytes = b"", trun_flags: int = 0x000201, first_flags: int | None = SYNC,
              per_sample: list[bytes] | None = None, version: int = 0) -> bytes:
    """A fragment whose trun names a data offset and (by default) each sample's size."""
    flags = trun_flags | (0x4 if first_flags is not None else 0)
    head = struct.pack(">I", len(payloads))
    tail = b"" if first_flags is None else struct.pack(">I", first_flags)
    rows = per_sample or [struct.pack(">I", len(p)) for p in payloads]

    def build(offset: int) -> bytes:
        trun = full(b"trun", version, flags, head, struct.pack(">i", offset), tail, *rows)
        tfhd = full(b"tfhd", 0, tfhd_flags, struct.pack(">I", TRACK), tfhd_extra)
        tfdt = full(b"tfdt", 1, 0, struct.pack(">Q", decode))
        return box(b"moof", full(b"mfhd", 0, 0, struct.pack(">I", seq)), box(b"traf", tfhd, tfdt, trun))

    size = len(build(0))
    return build(size + 8) + box(b"mdat", *payloads)


def test_samples_take_trex_defaults_and_first_sample_flags() -> None:
    data = init() + moof_mdat(1, 0, [b"key", b"p1", b"p22"]) + moof_mdat(2, 9000, [b"p333"], first_flags=None)
    parsed = fmp4.parse(data)
    assert parsed.track.timescale == 90_000 and parsed.track.track_id == TRACK
    samples = parsed.samples
    assert [s.decode for s in samples] == [0, 3000, 6000, 9000]
    assert [s.duration for s in samples] == [3000] * 4
    assert [s.sync for s in samples] == [True, False, False, False]
    assert [bytes(data[s.offset:s.offset + s.size]) for s in samples] == [b"key", b"p1", b"p22", b"p333"]
    assert [len(f) for f in parsed.fragments] == [3, 1]


def test_tfhd_defaults_and_per_sample_fields_with_signed_offsets() -> None:
    tfhd_extra = struct.pack(">III", 1500, 2, NON_SYNC)  # duration, size, flags
    plain = init() + moof_mdat(1, 100, [b"ab", b"cd"], tfhd_flags=0x020038, tfhd_extra=tfhd_extra,
                               trun_flags=0x000001, per_sample=[b"", b""])
    assert [(s.decode, s.duration, s.size, s.sync) for s in fmp4.parse(plain).samples] == [
        (100, 1500, 2, True), (1600, 1500, 2, False)]
    rows = [struct.pack(">IIIi", 1000, 1, SYNC, 2000), struct.pack(">IIIi", 1000, 1, NON_SYNC, -1000)]
    signed = init() + moof_mdat(1, 0, [b"I", b"B"], trun_flags=0x000F01, first_flags=None, per_sample=rows,
                                version=1)
    i_frame, b_frame = fmp4.parse(signed).samples
    assert (i_frame.presentation, b_frame.presentation) == (2000, 0)


def test_an_explicit_base_data_offset_is_absolute() -> None:
    head = init()

    def moof(base: int) -> bytes:  # base_data_offset = start of the mdat payload, data offset 0
        trun = full(b"trun", 0, 0x000205, struct.pack(">Ii", 1, 0), struct.pack(">I", SYNC), struct.pack(">I", 3))
        tfhd = full(b"tfhd", 0, 0x000001, struct.pack(">IQ", TRACK, base))
        return box(b"moof", full(b"mfhd", 0, 0, struct.pack(">I", 1)),
                   box(b"traf", tfhd, full(b"tfdt", 0, 0, struct.pack(">I", 0)), trun))

    data = head + moof(len(head) + len(moof(0)) + 8) + box(b"mdat", b"xyz")
    (sample,) = fmp4.parse(data).samples
    assert data[sample.offset:sample.offset + sample.size] == b"xyz"


def test_written_fragments_read_back_with_new_times() -> None:
    track = fmp4.parse(init() + moof_mdat(1, 0, [b"k"])).track
    samples = [fmp4.OutSample(5000, 3000, 0, SYNC, b"key"), fmp4.OutSample(8000, 3000, -3000, NON_SYNC, b"b")]
    data = fmp4.init_segment(track) + fmp4.fragment(7, TRACK, samples)
    parsed = fmp4.parse(data)
    assert fmp4.same_track(parsed.track, track)
    back = parsed.samples
    assert [(s.decode, s.duration, s.cto, s.sync) for s in back] == [(5000, 3000, 0, True), (8000, 3000, -3000, False)]
    assert [data[s.offset:s.offset + s.size] for s in back] == [b"key", b"b"]
    assert int.from_bytes(data[len(fmp4.init_segment(track)) + 20:][:4], "big") == 7  # mfhd sequence
    with pytest.raises(ValueError, match="at least one"):
        fmp4.fragment(1, TRACK, [])
    with pytest.raises(ValueError, match="before the start"):
        fmp4.fragment(1, TRACK, [fmp4.OutSample(-1, 1, 0, SYNC, b"x")])


def test_tracks_join_only_with_equal_codec_parameters() -> None:
    base = fmp4.parse(init() + moof_mdat(1, 0, [b"k"])).track
    assert fmp4.same_track(base, fmp4.parse(init()).track)
    for other in (init(entry=b"other-sps"), init(timescale=1000), init(track_id=2)):
        assert not fmp4.same_track(base, fmp4.parse(other).track)
    with pytest.raises(fmp4.Fmp4Error, match="another track"):
        fmp4.parse(init(track_id=2) + moof_mdat(1, 0, [b"k"]))


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x00\x00\x00\x10moov" + bytes(8), "not ftyp moov"),
    (init()[:-3], "overruns"),
    (init(tracks=2), "expected one track"),
    (init() + moof_mdat(1, 0, [b"abc"])[:-2], "overruns"),
    (init() + moof_mdat(1, 0, [b"abc"], per_sample=[struct.pack(">I", 999)]), "outside the file"),
    (init() + moof_mdat(1, 0, [b"abc"])[:40], "overruns"),
])
def test_malformed_files_are_refused_with_where(data: bytes, reason: str) -> None:
    with pytest.raises(fmp4.Fmp4Error, match=reason):
        fmp4.parse(data)
