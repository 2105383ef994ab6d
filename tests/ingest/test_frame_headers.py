import pytest
from courtside_contracts.errors import ContractError
from courtside_contracts.headers import FrameMeta

from ingest.jpeg_encoder import EncodedFrame
from ingest.publisher import FrameHeaders


@pytest.mark.parametrize("pts", [None, 0.0, 1 / 30, 12345.678])
def test_frame_headers_equal_the_contracts(pts: float | None) -> None:
    headers = FrameHeaders("cam-1")
    for seq, (w, h) in enumerate([(960, 540), (960, 540), (320, 180)], start=7):
        frame = EncodedFrame(jpeg=b"x", width=w, height=h, ts_ns=1_700_000_000_000_000_000 + seq, pts=pts)
        built = headers.build(seq, frame)
        meta = FrameMeta(camera="cam-1", seq=seq, ts=frame.ts_ns, width=w, height=h, pts=pts)
        assert built == meta.to_headers()
        assert list(built) == list(meta.to_headers())
        assert FrameMeta.from_headers(built) == meta


def test_frame_headers_refuse_a_bad_camera_name_up_front() -> None:
    with pytest.raises(ContractError):
        FrameHeaders("bad.name")
