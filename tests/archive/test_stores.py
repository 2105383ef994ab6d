"""Both archive backends against the same checks: create-once, verify, conflict, range, list."""

from __future__ import annotations

from pathlib import Path

import pytest

from fanout.archive.gcs_store import GcsStore, lifecycle_rules
from fanout.archive.store import (
    ArchiveConflict,
    ArchiveError,
    ArchiveStore,
    ArchiveUnavailable,
    LocalStore,
    crc32c_of,
)
from tests.archive.gcs_emulator import FakeGcs


@pytest.fixture(params=["local", "gcs"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArchiveStore:
    if request.param == "local":
        return LocalStore(tmp_path / "archive")
    request.getfixturevalue("fake_gcs")
    return GcsStore("courtside-test", create=True)


def test_put_is_create_once_and_verified(store: ArchiveStore) -> None:
    data = b"segment bytes" * 1000
    first = store.put_new("p/cam/2026/12/01/1_2.mp4", data, "video/mp4", {"camera": "cam"})
    assert (first.size, first.crc32c) == (len(data), crc32c_of(data))
    again = store.put_new("p/cam/2026/12/01/1_2.mp4", data, "video/mp4", {"camera": "cam"})
    assert again.crc32c == first.crc32c  # a redelivery verifies, does not rewrite
    with pytest.raises(ArchiveConflict):
        store.put_new("p/cam/2026/12/01/1_2.mp4", data + b"x", "video/mp4", {})
    stat = store.stat("p/cam/2026/12/01/1_2.mp4")
    assert stat is not None and stat.metadata.get("camera") == "cam"
    assert store.read("p/cam/2026/12/01/1_2.mp4", 5, 12) == data[5:12]
    assert store.read("p/cam/2026/12/01/1_2.mp4") == data
    assert [o.key for o in store.list("p/cam/")] == ["p/cam/2026/12/01/1_2.mp4"]
    assert store.stat("p/cam/none.mp4") is None
    store.delete("p/cam/2026/12/01/1_2.mp4")
    assert list(store.list("p/cam/")) == []


def test_local_refuses_keys_outside(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "archive")
    with pytest.raises(ArchiveError, match="outside"):
        store.put_new("../escape.mp4", b"x", "video/mp4", {})


def test_gcs_down_is_unavailable(fake_gcs: FakeGcs) -> None:
    store = GcsStore("courtside-test", create=True)
    fake_gcs.stop()
    with pytest.raises(ArchiveUnavailable):
        store.put_new("p/x.mp4", b"abc", "video/mp4", {})


def test_gcs_lifecycle_rules(fake_gcs: FakeGcs) -> None:
    # fake-gcs-server accepts the patch but keeps no lifecycle: the rules are checked as sent.
    rules = lifecycle_rules({"p/cam-a/": 7, "p/cam-b/": 0.4})
    assert rules == [
        {"action": {"type": "Delete"}, "condition": {"age": 7, "matchesPrefix": ["p/cam-a/"]}},
        {"action": {"type": "Delete"}, "condition": {"age": 1, "matchesPrefix": ["p/cam-b/"]}}]
    assert GcsStore("courtside-test", create=True).apply_retention({"p/cam-a/": 7})
