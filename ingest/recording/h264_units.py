"""H.264 Annex-B access units as WHIP delivers them: NAL units, keyframes, parameter sets, frame_num.

Pure parsing, no I/O: aiortc hands ingest one Annex-B access unit per RTP timestamp
(start-code separated NAL units). Recording needs, per unit: whether it is an IDR
(a segment may start there), the SPS/PPS in it (in-band parameter sets: the segment's
``avcC`` is built from them, and a change of SPS starts a new segment), the picture size
from the SPS (pixels, cropping applied) and the first slice's ``frame_num``, which tells
a lost reference picture (RTP loss that aiortc's jitter buffer skipped over): from there
until the next IDR the pictures cannot be decoded correctly, so they are not recorded.
Every parser here raises :class:`H264ParseError` on truncated or malformed input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAL_SLICE = 1
NAL_IDR = 5
NAL_SPS = 7
NAL_PPS = 8
_START = re.compile(b"\x00\x00\x01")
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


class H264ParseError(ValueError):
    """A NAL unit is truncated or not valid H.264."""


def split_nal_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B buffer (without start codes; empty units dropped)."""
    starts = [m.end() for m in _START.finditer(data)]
    units: list[bytes] = []
    for i, begin in enumerate(starts):
        end = starts[i + 1] - 3 if i + 1 < len(starts) else len(data)
        unit = data[begin:end].rstrip(b"\x00")  # trailing zeros belong to the next 4-byte start code
        if unit:
            units.append(unit)
    return units


def nal_type(unit: bytes) -> int:
    return unit[0] & 0x1F


def _rbsp(unit: bytes) -> bytes:
    """The payload of a NAL unit without its header byte and emulation-prevention bytes."""
    return unit[1:].replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    """An MSB-first bit reader with Exp-Golomb codes (H.264 clause 9.1)."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._left = len(data) * 8

    def u(self, n: int) -> int:
        if n > self._left:
            raise H264ParseError("NAL unit truncated")
        self._left -= n
        return (self._value >> self._left) & ((1 << n) - 1)

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise H264ParseError("invalid Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


@dataclass(frozen=True, slots=True)
class Sps:
    """What recording needs of a sequence parameter set. ``width``/``height``: pixels after cropping."""

    sps_id: int
    width: int
    height: int
    log2_max_frame_num: int
    gaps_allowed: bool
    frame_mbs_only: bool


def parse_sps(unit: bytes) -> Sps:
    """Parse an SPS NAL unit (clause 7.3.2.1.1)."""
    if not unit or nal_type(unit) != NAL_SPS:
        raise H264ParseError("not an SPS")
    b = _Bits(_rbsp(unit))
    profile = b.u(8)
    b.u(16)  # constraint flags, level
    sps_id = b.ue()
    chroma_format = 1
    if profile in _HIGH_PROFILES:
        chroma_format = b.ue()
        if chroma_format == 3:
            b.u(1)  # separate_colour_plane_flag
        b.ue()  # bit_depth_luma_minus8
        b.ue()  # bit_depth_chroma_minus8
        b.u(1)  # qpprime_y_zero_transform_bypass_flag
        if b.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format != 3 else 12):
                if b.u(1):
                    _skip_scaling_list(b, 16 if i < 6 else 64)
    log2_max_frame_num = b.ue() + 4
    poc_type = b.ue()
    if poc_type == 0:
        b.ue()
    elif poc_type == 1:
        b.u(1)
        b.se()
        b.se()
        for _ in range(b.ue()):
            b.se()
    b.ue()  # max_num_ref_frames
    gaps = bool(b.u(1))
    width_mbs = b.ue() + 1
    height_units = b.ue() + 1
    frame_mbs_only = bool(b.u(1))
    if not frame_mbs_only:
        b.u(1)
    b.u(1)  # direct_8x8_inference_flag
    crop = (b.ue(), b.ue(), b.ue(), b.ue()) if b.u(1) else (0, 0, 0, 0)
    sub_w, sub_h = {0: (1, 1), 1: (2, 2), 2: (2, 1), 3: (1, 1)}.get(chroma_format, (2, 2))
    unit_x = sub_w if chroma_format else 1
    unit_y = (sub_h if chroma_format else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = height_units * 16 * (2 - frame_mbs_only) - unit_y * (crop[2] + crop[3])
    if width <= 0 or height <= 0 or log2_max_frame_num > 16:
        raise H264ParseError("SPS with impossible values")
    return Sps(sps_id, width, height, log2_max_frame_num, gaps, frame_mbs_only)


def _skip_scaling_list(b: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt:
            nxt = (last + b.se() + 256) % 256
        last = nxt or last


def slice_frame_num(unit: bytes, sps: Sps) -> int:
    """``frame_num`` of a coded slice (types 1 and 5) under ``sps`` (clause 7.3.3)."""
    b = _Bits(_rbsp(unit)[:16])
    b.ue()  # first_mb_in_slice
    b.ue()  # slice_type
    b.ue()  # pic_parameter_set_id
    return b.u(sps.log2_max_frame_num)


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One parsed access unit. ``params``: its SPS and PPS units in order (empty when it has none)."""

    keyframe: bool
    sps: Sps | None
    params: tuple[bytes, ...]
    first_slice: bytes | None
    reference: bool


def parse_access_unit(data: bytes) -> AccessUnit:
    """Classify one Annex-B access unit; :class:`H264ParseError` when a parameter set is broken."""
    units = split_nal_units(data)
    sps: Sps | None = None
    params: list[bytes] = []
    first: bytes | None = None
    for unit in units:
        kind = nal_type(unit)
        if kind == NAL_SPS:
            sps = parse_sps(unit)
            params.append(unit)
        elif kind == NAL_PPS:
            params.append(unit)
        elif kind in (NAL_SLICE, NAL_IDR) and first is None:
            first = unit
    keyframe = first is not None and nal_type(first) == NAL_IDR
    reference = first is not None and bool(first[0] & 0x60)
    return AccessUnit(keyframe, sps, tuple(params), first, reference)


class FrameNumTracker:
    """Tells a lost reference picture from the ``frame_num`` sequence (clause 7.4.3).

    After an IDR, every picture's ``frame_num`` is ``(PrevRefFrameNum + 1) % MaxFrameNum``
    (frames, not fields); a larger step means a reference picture never arrived. Pictures
    with ``gaps_in_frame_num_allowed`` are not checked (a sender may skip numbers there).
    """

    def __init__(self) -> None:
        self._prev_ref: int | None = None

    def reset(self) -> None:
        self._prev_ref = None

    def intact(self, au: AccessUnit, sps: Sps) -> bool:
        """Whether ``au`` follows its references without a gap (an IDR always does)."""
        if au.first_slice is None:
            return False
        try:
            num = slice_frame_num(au.first_slice, sps)
        except H264ParseError:
            return False
        if au.keyframe:
            self._prev_ref = num
            return True
        if self._prev_ref is None:
            return False
        ok = sps.gaps_allowed or not sps.frame_mbs_only or num == (self._prev_ref + 1) % (1 << sps.log2_max_frame_num)
        if ok and au.reference:
            self._prev_ref = num
        return ok


def annexb(units: tuple[bytes, ...]) -> bytes:
    """``units`` joined with 4-byte start codes (the form FFmpeg's MP4 muxer turns into ``avcC``)."""
    return b"".join(b"\x00\x00\x00\x01" + u for u in units)
