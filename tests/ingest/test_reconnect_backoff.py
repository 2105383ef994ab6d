from ingest.backoff import Backoff


def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0, rand=lambda lo, hi: hi)
    assert [backoff.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_backoff_full_jitter_stays_in_range() -> None:
    backoff = Backoff(base_s=1.0, cap_s=8.0)
    for _ in range(200):
        ceiling = backoff.ceiling()
        assert 0.0 <= backoff.next_delay() <= ceiling <= 8.0
    delays = [Backoff(1.0, 8.0).next_delay() for _ in range(200)]
    assert len(set(delays)) > 150  # jittered, not a constant


def test_backoff_reset_starts_over() -> None:
    backoff = Backoff(base_s=0.5, cap_s=30.0, rand=lambda lo, hi: hi)
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_never_overflows() -> None:
    backoff = Backoff(base_s=0.5, cap_s=30.0, rand=lambda lo, hi: hi)
    backoff.attempt = 10_000
    assert backoff.next_delay() == 30.0
