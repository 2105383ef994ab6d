"""The restart policy of ``courtside up`` on plain data: times passed in, jitter drawn from a list."""

from __future__ import annotations

import itertools

import pytest

from courtside.app.children import describe_exit
from courtside.app.restart_policy import GiveUp, Restart, RestartPolicy, RestartTracker
from courtside.config import ConfigError, parse_config


def tracker(policy: RestartPolicy, draws: list[float] | None = None) -> RestartTracker:
    values = itertools.cycle(draws or [0.5])  # 0.5 = no jitter
    return RestartTracker(policy, uniform=lambda: next(values))


def test_backoff_doubles_per_crash_in_a_row_and_is_capped() -> None:
    policy = RestartPolicy(initial_s=0.5, max_s=3.0, window_s=1000, max_crashes=100)
    t = tracker(policy)
    delays = []
    for i in range(6):
        decision = t.crashed(now=float(i), uptime_s=0.1)
        assert isinstance(decision, Restart)
        delays.append(decision.delay_s)
    assert delays == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert t.restarts == 6


def test_jitter_spreads_the_delay_within_its_fraction_and_never_past_the_cap() -> None:
    policy = RestartPolicy(initial_s=1.0, max_s=4.0, jitter=0.2, window_s=1000, max_crashes=100)
    low = tracker(policy, [0.0]).crashed(0.0, 0.1)
    high = tracker(policy, [0.999999]).crashed(0.0, 0.1)
    assert isinstance(low, Restart) and isinstance(high, Restart)
    assert low.delay_s == pytest.approx(0.8)
    assert high.delay_s == pytest.approx(1.2, abs=1e-5)
    capped = tracker(policy, [0.999999])
    last = None
    for i in range(5):
        last = capped.crashed(float(i), 0.1)
    assert isinstance(last, Restart) and last.delay_s <= 4.0


def test_a_stable_run_resets_the_backoff() -> None:
    policy = RestartPolicy(initial_s=0.5, max_s=30, stable_after_s=10, window_s=1000, max_crashes=100)
    t = tracker(policy)
    for i in range(3):
        t.crashed(float(i), uptime_s=0.5)
    decision = t.crashed(100.0, uptime_s=60.0)  # it ran a minute before this crash
    assert decision == Restart(0.5, 1)


def test_gives_up_only_after_more_than_max_crashes_within_the_window() -> None:
    policy = RestartPolicy(initial_s=0.1, max_s=1, window_s=60, max_crashes=3)
    t = tracker(policy)
    assert all(isinstance(t.crashed(float(i), 0.1), Restart) for i in range(3))
    decision = t.crashed(3.0, 0.1)
    assert decision == GiveUp("crashed 4 times within 60 s")


def test_crashes_spread_wider_than_the_window_never_give_up() -> None:
    policy = RestartPolicy(initial_s=0.1, max_s=1, window_s=60, max_crashes=3)
    t = tracker(policy)
    for i in range(50):  # one crash every 25 s: at most 3 in any 60 s
        assert isinstance(t.crashed(i * 25.0, 0.1), Restart), f"gave up at crash {i}"
    assert t.crashes_in_window(50 * 25.0 + 61) == 0


@pytest.mark.parametrize("kwargs", [{"initial_s": 0}, {"initial_s": 5, "max_s": 1}, {"multiplier": 0.5},
                                    {"jitter": 1.0}, {"max_crashes": 0}, {"window_s": 0}])
def test_nonsense_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RestartPolicy(**kwargs)  # type: ignore[arg-type]


def test_the_supervisor_section_of_the_config_is_checked() -> None:
    config = parse_config({"supervisor": {"restart_backoff_s": 1, "give_up_crashes": 2}}, "<t>", environ={})
    assert config.supervisor.give_up_crashes == 2
    with pytest.raises(ConfigError, match="supervisor: restart_backoff_s must not exceed"):
        parse_config({"supervisor": {"restart_backoff_s": 9, "restart_backoff_max_s": 1}}, "<t>", environ={})
    with pytest.raises(ConfigError, match=r"supervisor\.restarts: unknown key"):
        parse_config({"supervisor": {"restarts": 3}}, "<t>", environ={})


def test_exits_are_described_in_words() -> None:
    assert describe_exit(1) == "exit code 1"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-200) == "killed by signal 200"
