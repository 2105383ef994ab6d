from ingest.av_source import OpenOptions


def test_live_sources_get_timeouts_and_low_latency_probing() -> None:
    options = OpenOptions(live=True, open_timeout_s=2.0, read_timeout_s=1.5)
    assert options.pyav_timeout() == (2.0, 1.5)
    assert options.container_options()["timeout"] == "1500000"
    assert options.container_options()["rtsp_transport"] == "tcp"


def test_files_open_without_timeouts() -> None:
    # No interrupt callback (it would take the GIL about once per packet) for a local file.
    options = OpenOptions(live=False)
    assert options.pyav_timeout() is None
    assert options.container_options() == {}
