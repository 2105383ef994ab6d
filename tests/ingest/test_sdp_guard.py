import pytest

from ingest.errors import WhipBadOffer
from ingest.sdp_guard import MAX_SDP_BYTES, check_offer

BASE = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "{audio}"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=rtpmap:96 {codec}/90000\r\na=rtpmap:97 rtx/90000\r\n"
)
AUDIO = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\n"


def offer(codec: str = "H264", audio: str = "") -> bytes:
    return BASE.format(codec=codec, audio=audio).encode()


@pytest.mark.parametrize("codec", ["H264", "VP8", "h264", "vp8"])
def test_accepts_supported_codecs(codec: str) -> None:
    text, summary = check_offer(offer(codec))
    assert text.startswith("v=0") and summary.video_codecs == {codec.upper()} and not summary.has_audio


def test_audio_is_noticed_but_allowed() -> None:
    assert check_offer(offer(audio=AUDIO))[1].has_audio


@pytest.mark.parametrize(("body", "why"), [
    (b"x" * (MAX_SDP_BYTES + 1), "limit"),
    ("v=0\r\né\r\n".encode(), "ASCII"),
    (b"o=- 1 1 IN IP4 0.0.0.0\r\n", "v=0"),
    (offer(codec="VP9"), "no supported video codec"),
    (offer(audio=AUDIO + AUDIO), "one audio"),
    (offer().replace(b"m=video", b"m=application"), "exactly one video"),
    (offer().replace(b"a=fingerprint", b"a=fp"), "fingerprint"),
    (offer().replace(b"a=ice-ufrag", b"a=ufrag"), "ICE"),
    (offer().replace(b"s=-", b"s=\x07"), "malformed"),
    (offer() + b"m=audio 9 RTP 0\r\n" * 4, "media sections"),
])
def test_refuses_with_a_reason(body: bytes, why: str) -> None:
    with pytest.raises(WhipBadOffer, match=why):
        check_offer(body)
