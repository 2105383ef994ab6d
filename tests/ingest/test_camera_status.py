import logging

import pytest
from courtside_contracts.status import CameraState, ServiceState

from ingest.camera_status import CameraStatus, cameras_health


def test_state_changes_log_once_and_scrub_credentials(caplog: pytest.LogCaptureFixture) -> None:
    status = CameraStatus("cam-1", "rtsp")
    with caplog.at_level(logging.INFO, logger="ingest.camera_status"):
        for _ in range(3):
            status.set_state(CameraState.RECONNECTING, "open rtsp://admin:hunter2@10.0.0.9/live failed")
    assert len(caplog.records) == 1
    assert "hunter2" not in caplog.text and "hunter2" not in status.reason
    assert status.snapshot().reconnects == 1


def test_frames_make_a_camera_live_and_silence_makes_it_stalled() -> None:
    status = CameraStatus("cam-1", "file")
    status.frame_encoded(10.0)
    assert status.state == CameraState.LIVE
    status.check_stall(11.0, after_s=2.0)
    assert status.state == CameraState.LIVE
    status.check_stall(12.5, after_s=2.0)
    assert status.state == CameraState.STALLED
    assert "no frame for 2.5 s" in status.reason
    status.frame_encoded(13.0)
    assert status.state == CameraState.LIVE


def test_last_error_outlives_the_outage_and_changes_are_signalled() -> None:
    changes: list[str] = []
    status = CameraStatus("cam-1", "rtsp", on_change=lambda: changes.append(status.state.value))
    status.frame_encoded(1.0)
    status.set_state(CameraState.RECONNECTING, "decode: corrupt bitstream")
    status.frame_encoded(2.0)
    entry = status.snapshot(2.0).heartbeat_entry()
    assert entry["state"] == "live" and entry["last_error"] == "decode: corrupt bitstream"
    assert entry["reconnects"] == 1
    assert changes == ["live", "reconnecting", "live"]


def test_stall_check_never_overrides_a_reconnect() -> None:
    status = CameraStatus("cam-1", "rtsp")
    status.frame_encoded(10.0)
    status.set_state(CameraState.RECONNECTING, "server closed the stream")
    status.check_stall(20.0, after_s=2.0)
    assert status.state == CameraState.RECONNECTING


def test_heartbeat_entry_has_the_contract_fields() -> None:
    status = CameraStatus("cam-1", "file")
    status.frames_published(1, 1.0)
    status.count_dropped()
    entry = status.snapshot(1.5).heartbeat_entry()
    assert set(entry) >= {"state", "reason", "fps", "frames", "dropped"}
    assert entry["frames"] == 1 and entry["dropped"] == 1


def _snap(state: CameraState, source: str = "rtsp") -> object:
    status = CameraStatus("c", source)
    status.set_state(state, "x")
    return status.snapshot()


def test_cameras_health_rules() -> None:
    """Ingest's own health; NATS and the lifecycle are the kit's (tests/courtside/test_kit_pure.py)."""
    live, failed = _snap(CameraState.LIVE), _snap(CameraState.FAILED)
    connecting, whip_idle = _snap(CameraState.CONNECTING), _snap(CameraState.CONNECTING, "whip")
    assert cameras_health([]) == ServiceState.READY
    assert cameras_health([live]) == ServiceState.READY
    assert cameras_health([live, whip_idle]) == ServiceState.READY
    assert cameras_health([live, connecting]) == ServiceState.STARTING
    assert cameras_health([live, failed]) == ServiceState.DEGRADED
    assert cameras_health([connecting, _snap(CameraState.STALLED)]) == ServiceState.DEGRADED
