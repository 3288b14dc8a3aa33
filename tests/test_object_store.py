"""One contract, two stores: a local folder and GCS (a real API: fake-gcs-server)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from resources import object_store
from resources.keys import InvalidKeyError
from resources.object_store import (
    GCSObjectStore,
    LocalObjectStore,
    ObjectChangedError,
    ObjectStore,
    store_for_uri,
)


@pytest.fixture(params=["local", "gcs"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield LocalObjectStore(root=str(tmp_path / "bucket"))
    else:
        endpoint = request.getfixturevalue("fake_gcs")
        bucket = request.getfixturevalue("gcs_bucket")
        yield GCSObjectStore(bucket=bucket, prefix="inbox", endpoint=endpoint)


def test_write_stat_read(store: ObjectStore) -> None:
    data = b"id,name\n1,a\n"
    info = store.write_bytes("orders/date=2026-11-20/a.csv", data)
    assert info.key == "orders/date=2026-11-20/a.csv"
    assert info.size == len(data)
    assert info.md5 == hashlib.md5(data).hexdigest()
    assert info.updated.tzinfo is not None
    assert store.stat("orders/date=2026-11-20/a.csv") == info
    assert store.read_bytes("orders/date=2026-11-20/a.csv") == data
    with store.open("orders/date=2026-11-20/a.csv") as fh:
        assert fh.read() == data
    assert store.stat("orders/date=2026-11-20/missing.csv") is None


def test_list_by_prefix_and_folders(store: ObjectStore) -> None:
    for key in ["orders/date=2026-11-20/a.csv", "orders/date=2026-11-20/b.csv",
                "orders/date=2026-11-21/c.csv", "orders/loose.csv", "users/date=2026-11-20/u.csv"]:
        store.write_bytes(key, key.encode())
    assert [o.key for o in store.list("orders/date=2026-11-20/")] == [
        "orders/date=2026-11-20/a.csv", "orders/date=2026-11-20/b.csv"]
    assert [o.key for o in store.list("orders/date=2026-11-2")] == [
        "orders/date=2026-11-20/a.csv", "orders/date=2026-11-20/b.csv",
        "orders/date=2026-11-21/c.csv"]
    assert len(list(store.list())) == 5
    assert store.list_prefixes("orders/") == ["orders/date=2026-11-20/", "orders/date=2026-11-21/"]
    assert store.list_prefixes() == ["orders/", "users/"]
    assert list(store.list("nothing/")) == []


def test_paginated_listing_returns_everything(store: ObjectStore) -> None:
    keys = [f"events/date=2026-11-20/f{i:03d}.csv" for i in range(25)]
    for key in keys:
        store.write_bytes(key, b"x")
    assert [o.key for o in store.list("events/", page_size=7)] == keys


def test_overwrite_changes_generation(store: ObjectStore) -> None:
    first = store.write_bytes("orders/x.csv", b"one")
    second = store.write_bytes("orders/x.csv", b"two!")
    assert second.generation != first.generation
    assert second.md5 != first.md5 and second.size == 4


def test_copy_upload_download_delete(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"\x00\x01" * 100_000)
    store.upload_file("orders/big.bin", src)
    archive = LocalObjectStore(root=str(tmp_path / "archive"))
    copied = store.copy_to("orders/big.bin", archive, "2026-11-20/big.bin")
    assert copied.md5 == hashlib.md5(src.read_bytes()).hexdigest()
    same_store_copy = store.copy_to("orders/big.bin", store, "archive/big.bin")
    assert same_store_copy.size == 200_000
    out = tmp_path / "out.bin"
    store.download_file("orders/big.bin", out)
    assert out.read_bytes() == src.read_bytes()
    assert store.delete("orders/big.bin") is True
    assert store.delete("orders/big.bin") is False
    assert not store.exists("orders/big.bin")


@pytest.mark.parametrize("key", ["../escape.csv", "/abs.csv", "a/../../b", "x y.csv"])
def test_unsafe_keys_never_reach_the_store(store: ObjectStore, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidKeyError):
        store.write_bytes(key, b"x")
    with pytest.raises(InvalidKeyError):
        store.read_bytes(key)
    assert not (tmp_path / "escape.csv").exists()


def test_gcs_counts_listed_objects(fake_gcs: str, gcs_bucket: str) -> None:
    store = GCSObjectStore(bucket=gcs_bucket, endpoint=fake_gcs)
    for i in range(5):
        store.write_bytes(f"orders/date=2026-11-20/{i}.csv", b"x")
    store.write_bytes("orders/date=2026-11-21/z.csv", b"x")
    assert len(list(store.list("orders/date=2026-11-21/"))) == 1
    assert store.objects_listed == 1


def test_local_files_get_the_umask_mode(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path / "bucket"))
    store.write_bytes("orders/a.csv", b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "bucket/orders/a.csv").stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in (tmp_path / "bucket/orders").iterdir()] == ["a.csv"]  # no temp left


def test_symlinks_cannot_lead_outside_the_bucket(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_bytes(b"secret")
    root = tmp_path / "bucket"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = LocalObjectStore(root=str(root))
    with pytest.raises(InvalidKeyError):
        store.read_bytes("link/secret.csv")
    with pytest.raises(InvalidKeyError):
        store.write_bytes("link/new.csv", b"x")
    assert not (outside / "new.csv").exists()
    assert list(store.list("link/")) == [] and list(store.list()) == []


def test_store_for_uri(tmp_path: Path) -> None:
    assert isinstance(store_for_uri(str(tmp_path)), LocalObjectStore)
    gcs = store_for_uri("gs://my-bucket/landing/zone")
    assert isinstance(gcs, GCSObjectStore) and gcs.bucket == "my-bucket"
    assert gcs.uri("a.csv") == "gs://my-bucket/landing/zone/a.csv"
    with pytest.raises(ValueError):
        store_for_uri("gs://")


def test_versioned_calls_never_touch_a_newer_version(store: ObjectStore, tmp_path: Path) -> None:
    """Read, copy and delete of the version listed: once it is overwritten they fail and
    leave the new version in place, intact; on the version itself they work."""
    key = "orders/date=2026-11-20/a.csv"
    old = store.write_bytes(key, b"old")
    new = store.write_bytes(key, b"new content")
    archive = LocalObjectStore(root=str(tmp_path / "archive"))
    for dest in (archive, store):  # into a folder, and within the store (GCS: server copy)
        with pytest.raises(ObjectChangedError) as err:
            store.copy_to(key, dest, "copied/a.csv", generation=old.generation)
        assert err.value.current == new.generation
        assert not dest.exists("copied/a.csv")
    with pytest.raises(ObjectChangedError), store.local_copy(key, old.generation) as path:
        path.read_bytes()
    with pytest.raises(ObjectChangedError):
        store.delete(key, generation=old.generation)
    assert store.read_bytes(key) == b"new content" and store.stat(key) == new
    with store.local_copy(key, new.generation) as path:
        assert path.read_bytes() == b"new content"
    assert store.copy_to(key, archive, "copied/a.csv", generation=new.generation).size == 11
    assert store.delete(key, generation=new.generation) is True
    assert not store.exists(key)
    assert store.delete(key, generation=new.generation) is False
    with pytest.raises(ObjectChangedError) as err:
        store.copy_to(key, archive, "again.csv", generation=new.generation)
    assert err.value.current is None


def test_local_delete_puts_back_a_version_written_during_the_delete(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A writer replaces the file between the generation check and the rename: the delete
    must notice (inode/mtime of what it moved aside) and put the new version back."""
    store = LocalObjectStore(root=str(tmp_path / "bucket"))
    old = store.write_bytes("orders/a.csv", b"old")
    real_rename = os.rename

    def writer_wins_the_race(src, dst):
        store.write_bytes("orders/a.csv", b"written during the delete")
        real_rename(src, dst)

    monkeypatch.setattr(object_store.os, "rename", writer_wins_the_race)
    with pytest.raises(ObjectChangedError):
        store.delete("orders/a.csv", generation=old.generation)
    monkeypatch.setattr(object_store.os, "rename", real_rename)
    assert store.read_bytes("orders/a.csv") == b"written during the delete"
    assert [p.name for p in (tmp_path / "bucket/orders").iterdir()] == ["a.csv"]  # no temp


def test_local_read_sees_an_overwrite_in_place(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path / "bucket"))
    info = store.write_bytes("orders/a.csv", b"one")
    with (pytest.raises(ObjectChangedError),
          store.local_copy("orders/a.csv", info.generation) as path,
          open(path, "r+b") as fh):  # same inode, new content (`cat > file`)
        fh.write(b"two")
    assert store.read_bytes("orders/a.csv") == b"two"


def test_a_local_file_is_unsettled_while_it_may_be_written(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path / "bucket"), settle_s=10)
    info = store.write_bytes("orders/a.csv", b"x")
    now = dt.datetime.now(dt.UTC)
    assert store.unsettled(info, now)
    assert not store.unsettled(info, now + dt.timedelta(seconds=11))
    # cp -p / rsync restore an old mtime: the ctime still says the file just changed.
    path = tmp_path / "bucket/orders/a.csv"
    os.utime(path, (0, 0))
    restored = store.stat("orders/a.csv")
    assert restored is not None and restored.updated.year == 1970
    assert store.unsettled(restored, now)
    # An mtime in the future (touch -d) must not keep the file unsettled forever.
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    os.utime(path, (future.timestamp(), future.timestamp()))
    ahead = store.stat("orders/a.csv")
    assert ahead is not None
    assert not store.unsettled(ahead, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=11))
    assert not LocalObjectStore(root=str(tmp_path / "bucket")).unsettled(info, now)


def test_gcs_objects_are_never_unsettled(fake_gcs: str, gcs_bucket: str) -> None:
    store = GCSObjectStore(bucket=gcs_bucket, endpoint=fake_gcs)
    info = store.write_bytes("orders/a.csv", b"x")
    assert not store.unsettled(info, info.updated)


def test_a_250_character_name_can_be_written_and_copied(store: ObjectStore,
                                                       tmp_path: Path) -> None:
    key = "orders/date=2026-11-20/" + "n" * 246 + ".csv"
    store.write_bytes(key, b"x")
    archive = LocalObjectStore(root=str(tmp_path / "archive"))
    copied = store.copy_to(key, archive, generation=store.stat(key).generation)
    assert copied.key == key and archive.read_bytes(key) == b"x"
