"""The content-addressed upload store: digests, restore keys, holds, keep time and disk budget."""

from __future__ import annotations

import hashlib
import os

import pytest

from app_support.upload_store import KEY_CHARS, UploadStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock) -> UploadStore:
    return UploadStore(tmp_path / "uploads", keep_seconds=3600, disk_bytes=10_000, clock=clock)


def test_chunks_are_filed_under_their_sha256_and_identical_content_is_stored_once(store):
    payload = os.urandom(300_000)
    writer = store.writer("emd_1234.map")
    for start in range(0, len(payload), 65_536):
        writer.write(payload[start : start + 65_536])
    stored = writer.commit()
    assert stored.digest == hashlib.sha256(payload).hexdigest()
    assert stored.path.read_bytes() == payload
    assert (stored.name, stored.size) == ("emd_1234.map", len(payload))
    again = store.put_bytes("copy.map", payload)
    assert again.path == stored.path and again.key == stored.key
    assert sorted(p.name for p in store.root.iterdir() if len(p.name) == 64) == [stored.digest]
    assert not list((store.root / "partial").iterdir())
    assert oct(stored.path.stat().st_mode & 0o777) == "0o600"


def test_an_aborted_upload_leaves_nothing(store):
    writer = store.writer("half.map")
    writer.write(b"x" * 1000)
    writer.abort()
    assert not list((store.root / "partial").iterdir())
    assert store.disk_usage() == (0, 0)


def test_restore_keys_are_unguessable_and_survive_a_restart(tmp_path, store, clock):
    stored = store.put_bytes("m.cif", b"data_model\n")
    assert len(stored.key) == KEY_CHARS and stored.key not in stored.digest
    assert store.find(stored.key) == stored
    assert store.find("0" * KEY_CHARS) is None and store.find("short") is None
    other = UploadStore(tmp_path / "elsewhere", keep_seconds=3600, disk_bytes=1e9, clock=clock)
    assert other.key_of(stored.digest) != stored.key, "keys depend on the store's secret"
    restarted = UploadStore(store.root, keep_seconds=3600, disk_bytes=1e9, clock=clock)
    assert restarted.find(stored.key) == stored


def test_held_files_stay_and_loose_ones_go_after_the_keep_time(store, clock):
    kept = store.put_bytes("a.map", b"a" * 100)
    loose = store.put_bytes("b.map", b"b" * 100)
    store.hold("session-1", "map", [kept.digest])
    clock.now += 3601
    assert store.collect() == [loose.digest]
    assert store.find(loose.key) is None and not loose.path.exists()
    assert store.find(kept.key) == kept
    store.release("session-1")
    clock.now += 1800
    assert store.collect() == [] and store.find(kept.key) == kept, "restorable for keep_seconds"
    clock.now += 3601
    assert store.collect() == [kept.digest] and not kept.path.exists()


def test_replacing_a_slot_releases_the_old_file(store, clock):
    first = store.put_bytes("first.map", b"1" * 10)
    second = store.put_bytes("second.map", b"2" * 10)
    store.hold("s", "map", [first.digest])
    store.hold("s", "map", [second.digest])
    assert store.held_by("s") == {second.digest}
    clock.now += 3601
    assert store.collect() == [first.digest]


def test_loose_files_beyond_the_disk_budget_go_oldest_first(store, clock):
    old = store.put_bytes("old.map", b"o" * 6000)
    clock.now += 10
    new = store.put_bytes("new.map", b"n" * 6000)
    held = store.put_bytes("held.map", b"h" * 20_000)
    store.hold("s", "map", [held.digest])
    assert store.collect() == [old.digest]
    assert new.path.exists() and held.path.exists(), "held files never count against the budget"


def test_tickets_are_redeemed_only_by_their_session_and_file(store, clock):
    stored = store.put_bytes("x.map", b"x" * 50)
    token = store.claim("session-1", "file-1", stored)
    assert store.redeem(token, "session-2", "file-1") is None
    assert store.redeem(token, "session-1", "file-2") is None
    assert store.redeem(token, "session-1", "file-1") == stored
    clock.now += 10 * 3600
    assert store.collect() == [], "an unredeemed ticket holds its file"
    store.release("session-1")
    assert store.redeem(token, "session-1", "file-1") is None
    clock.now += 3601
    assert store.collect() == [stored.digest]
