"""One contract, two stores: a local folder and GCS (a real API: fake-gcs-server)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from resources.keys import InvalidKeyError
from resources.object_store import GCSObjectStore, LocalObjectStore, ObjectStore, store_for_uri


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
