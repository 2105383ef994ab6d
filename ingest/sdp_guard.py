"""First line of defence for WHIP offers: bounded, well-formed, one video stream we can decode.

Pure checks on the SDP text before aiortc parses it, so that a hostile or
broken offer is answered with a 4xx and a reason, never a 500 or a stuck
negotiation. aiortc's parser still runs afterwards (its errors are translated
in :mod:`ingest.whip_session`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.errors import WhipBadOffer

#: Largest accepted offer (bytes). Browser/OBS offers are 2-8 KiB.
MAX_SDP_BYTES = 32 * 1024
MAX_LINES = 400
MAX_MEDIA = 4
#: Video codecs ingest decodes (aiortc receivers).
VIDEO_CODECS = frozenset({"H264", "VP8"})

_LINE = re.compile(r"^[a-z]=[\x20-\x7e]*$")
_RTPMAP = re.compile(r"^a=rtpmap:(\d{1,3}) ([A-Za-z0-9_.-]{1,32})/(\d{1,6})")


@dataclass(frozen=True, slots=True)
class OfferSummary:
    """What the offer proposes: video codecs (upper case) and whether it has audio."""

    video_codecs: frozenset[str]
    has_audio: bool


def check_offer(raw: bytes) -> tuple[str, OfferSummary]:
    """Validate a WHIP offer body; return it as text plus a summary, or raise :class:`WhipBadOffer`."""
    if len(raw) > MAX_SDP_BYTES:
        raise WhipBadOffer(f"SDP offer is {len(raw)} bytes, limit {MAX_SDP_BYTES}")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        raise WhipBadOffer("SDP offer must be ASCII text") from None
    lines = [line for line in text.replace("\r\n", "\n").split("\n") if line]
    if not lines or lines[0] != "v=0":
        raise WhipBadOffer("not an SDP offer (it must start with v=0)")
    if len(lines) > MAX_LINES:
        raise WhipBadOffer(f"SDP offer has {len(lines)} lines, limit {MAX_LINES}")
    for number, line in enumerate(lines, 1):
        if not _LINE.match(line):
            raise WhipBadOffer(f"SDP line {number} is malformed: {line[:60]!r}")
    media: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.startswith("m="):
            media.append((line[2:].split(" ", 1)[0], []))
        elif media:
            media[-1][1].append(line)
    if not media:
        raise WhipBadOffer("SDP offer has no media section")
    if len(media) > MAX_MEDIA:
        raise WhipBadOffer(f"SDP offer has {len(media)} media sections, limit {MAX_MEDIA}")
    kinds = [kind for kind, _ in media]
    if kinds.count("video") != 1:
        raise WhipBadOffer(f"SDP offer must have exactly one video section, found {kinds.count('video')}")
    if kinds.count("audio") > 1 or set(kinds) - {"audio", "video"}:
        raise WhipBadOffer(f"SDP offer may only add one audio section, found {', '.join(kinds)}")
    video_attrs = next(attrs for kind, attrs in media if kind == "video")
    codecs = {m.group(2).upper() for m in map(_RTPMAP.match, video_attrs) if m}
    usable = frozenset(codecs & VIDEO_CODECS)
    if not usable:
        raise WhipBadOffer(f"SDP offer has no supported video codec (offered: {', '.join(sorted(codecs)) or 'none'}; "
                           f"supported: {', '.join(sorted(VIDEO_CODECS))})")
    if not any(a.startswith("a=fingerprint:") for a in lines):
        raise WhipBadOffer("SDP offer has no DTLS fingerprint")
    if not any(a.startswith("a=ice-ufrag:") for a in lines):
        raise WhipBadOffer("SDP offer has no ICE credentials")
    return text, OfferSummary(usable, "audio" in kinds)
