from ingest.decode_health import DecodeHealth, Outcome

P, E, N = Outcome.PICTURE, Outcome.ERROR, Outcome.EMPTY


def feed(health: DecodeHealth, outcomes: list[Outcome], fps: float = 30.0, start: float = 0.0) -> str | None:
    for i, outcome in enumerate(outcomes):
        verdict = health.packet(outcome, start + i / fps)
        if verdict is not None:
            return verdict
    return None


def test_a_clean_stream_is_healthy() -> None:
    assert feed(DecodeHealth(), [P] * 1000) is None


def test_occasional_errors_are_tolerated() -> None:
    assert feed(DecodeHealth(), ([E] + [P] * 9) * 100) is None


def test_interleaved_errors_and_concealed_pictures_are_corrupt() -> None:
    verdict = feed(DecodeHealth(), [P] * 60 + [E, P] * 30)
    assert verdict is not None and "of the last 30 packets failed" in verdict


def test_waiting_for_a_keyframe_is_not_corrupt() -> None:
    # A client joining mid-GOP: 1.5 s of packets without pictures, then pictures.
    assert feed(DecodeHealth(no_picture_s=2.0), [N] * 45 + [P] * 100) is None


def test_packets_without_pictures_for_too_long_are_corrupt() -> None:
    verdict = feed(DecodeHealth(no_picture_s=2.0), [P] * 10 + [N] * 100)
    assert verdict is not None and "no picture decoded for 2.0" in verdict
