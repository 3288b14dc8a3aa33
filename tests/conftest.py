"""Shared fixtures: an isolated ECOMMERCE_HOME, a real fake-gcs-server, generated data."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import time
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
    from tests.fake_gcs import fake_gcs_server

    with fake_gcs_server() as endpoint:
        yield endpoint


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
