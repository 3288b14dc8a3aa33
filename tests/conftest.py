"""Shared fixtures: an isolated ECOMMERCE_HOME, a real fake-gcs-server, generated data."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from test_data.thelook_ecommerce import synthetic

AS_OF = dt.date(2026, 11, 20)
REPO = Path(__file__).resolve().parents[1]
# Tests write a file and ingest it at once: it is complete. Tests of the settle rule (and the
# drills, which land files while the daemon runs) set the variable themselves.
os.environ["ECOMMERCE_INBOX_SETTLE_S"] = "0"
# The generated pipeline data of the silver and gold asset tests: a seed and 3 dirty days.
SEED_DAY = dt.date(2026, 11, 20)
LAST_DAY = dt.date(2026, 11, 23)


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


@dataclass(frozen=True)
class GeneratedSilver:
    home: Path
    resources: dict
    result: object  # the dg.ExecuteInProcessResult of the silver run


@pytest.fixture(scope="session")
def generated_silver(tmp_path_factory: pytest.TempPathFactory) -> GeneratedSilver:
    """Seed (scale 0.01) + 3 dirty days, every bronze partition, then every silver asset,
    through Dagster; shared by the silver and gold asset tests (gold writes only gold.*)."""
    import dagster as dg

    from ecommerce_assets.bronze.assets import bronze_assets
    from ecommerce_assets.silver.assets import silver_assets
    from resources.deployment import build_resources

    home = tmp_path_factory.mktemp("generated") / "home"
    env = {"ECOMMERCE_HOME": str(home), "PATH": ""}
    for args in (["seed.py", "--scale", "0.01", "--date", SEED_DAY.isoformat()],
                 ["generate.py", "--days", "3", "--rows", "300", "--date",
                  LAST_DAY.isoformat()]):
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{args[0]}", *args[1:]],
                       cwd=REPO, env=env, check=True, capture_output=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOMMERCE_HOME", str(home))
        resources = build_resources("local")
        bronze = dg.materialize(bronze_assets, resources=resources, tags={
            "dagster/asset_partition_range_start": SEED_DAY.isoformat(),
            "dagster/asset_partition_range_end": LAST_DAY.isoformat()})
        assert bronze.success
        result = dg.materialize([*silver_assets, *bronze_assets], resources=resources,
                                selection=dg.AssetSelection.groups("silver"))
    return GeneratedSilver(home, resources, result)


@pytest.fixture(scope="session")
def empty_bronze(tmp_path_factory: pytest.TempPathFactory):
    """A DuckDB file with every bronze table, empty, in its real schema, and the silver and
    gold tables refreshed from them (what SQL files beyond silver's read)."""
    from ecommerce_assets.bronze.spec import BRONZE_TABLES
    from ecommerce_assets.gold import refresh as gold_refresh
    from ecommerce_assets.gold.spec import FX_RATES_TABLE, GOLD_TABLES
    from ecommerce_assets.silver.refresh import refresh_statements
    from ecommerce_assets.silver.spec import SILVER_TABLES
    from resources.fx_rates import StaticFxRates
    from resources.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(path=str(tmp_path_factory.mktemp("sql") / "w.duckdb"))
    wh.ensure_schemas()
    for table in BRONZE_TABLES.values():
        wh.load_table(table.warehouse_table, table.arrow_schema.empty_table())
    for table in SILVER_TABLES.values():
        wh.execute_script([wh.transpile(s) for s in refresh_statements(table)])
    wh.load_table(FX_RATES_TABLE, StaticFxRates().rates([]))
    for table in GOLD_TABLES.values():
        gold_refresh.refresh_table(wh, table)
    return wh
