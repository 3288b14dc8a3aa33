"""The code location loads, validates with the Dagster CLI, and honours the deployment switch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from resources import settings
from resources.deployment import build_resources
from resources.warehouse import DuckDBWarehouse
from tests.conftest import REPO


def test_definitions_load(ecommerce_home: Path) -> None:
    from ecommerce_assets import definitions

    defs = definitions.defs
    assert isinstance(defs, dg.Definitions)
    repo = defs.get_repository_def()
    assert {"warehouse", "inbox_store", "staging_store", "archive_store",
            "quarantine_store"} <= set(repo.get_top_level_resources())


def test_local_resources_live_under_ecommerce_home(ecommerce_home: Path) -> None:
    resources = build_resources("local")
    assert Path(resources["warehouse"].path) == ecommerce_home / "warehouse.duckdb"
    for bucket in settings.BUCKETS:
        assert Path(resources[f"{bucket}_store"].root) == ecommerce_home / "buckets" / bucket
        assert (ecommerce_home / "buckets" / bucket).is_dir()


def test_deployment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOMMERCE_DEPLOYMENT", raising=False)
    assert settings.deployment() == "local"
    monkeypatch.setenv("ECOMMERCE_DEPLOYMENT", "GCP")
    assert settings.deployment() == "gcp"
    monkeypatch.delenv("ECOMMERCE_GCP_PROJECT", raising=False)
    with pytest.raises(settings.SettingError, match="ECOMMERCE_GCP_PROJECT is not set"):
        build_resources()
    monkeypatch.setenv("ECOMMERCE_DEPLOYMENT", "azure")
    with pytest.raises(ValueError, match="not one of local, gcp"):
        settings.deployment()


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    env = {**os.environ, "ECOMMERCE_HOME": str(tmp_path / "home"),
           "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    (tmp_path / "dagster_home").mkdir()
    dagster = Path(sys.executable).with_name("dagster")
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation successful" in result.stdout + result.stderr


def test_seed_from_bigquery_without_credentials_is_one_sentence(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_"))}
    env.update(HOME=str(tmp_path), ECOMMERCE_HOME=str(tmp_path / "home"), NO_GCE_CHECK="true",
               CLOUDSDK_CONFIG=str(tmp_path / "gcloud"))
    result = subprocess.run(
        [sys.executable, "test_data/thelook_ecommerce/seed.py", "--source", "bigquery",
         "--limit", "5"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["seed.py: No Google Cloud credentials found: run `gcloud auth "
                     "application-default login` or set GOOGLE_APPLICATION_CREDENTIALS, then retry."]
    assert "Traceback" not in result.stderr


def test_init_local_creates_buckets_and_schemas(ecommerce_home: Path) -> None:
    from resources.deployment import init_local

    init_local()
    init_local()  # idempotent
    import duckdb

    with duckdb.connect(str(ecommerce_home / "warehouse.duckdb"), read_only=True) as con:
        schemas = {r[0] for r in con.execute(
            "SELECT schema_name FROM information_schema.schemata").fetchall()}
    assert {"bronze", "silver", "gold", "ops"} <= schemas
    assert sorted(p.name for p in (ecommerce_home / "buckets").iterdir()) == [
        "archive", "inbox", "quarantine", "staging"]


def test_warehouse_resource_sets_up_schemas_in_a_run(ecommerce_home: Path) -> None:
    @dg.asset
    def probe(warehouse: DuckDBWarehouse) -> list[str]:
        rows = warehouse.query_arrow("SELECT schema_name FROM information_schema.schemata")
        return sorted(rows["schema_name"].to_pylist())

    wh = DuckDBWarehouse(path=str(ecommerce_home / "w.duckdb"))
    result = dg.materialize([probe], resources={"warehouse": wh})
    assert result.success
    assert {"bronze", "silver", "gold", "ops"} <= set(result.output_for_node("probe"))


def test_a_bucket_can_live_on_gcs(ecommerce_home: Path, monkeypatch: pytest.MonkeyPatch,
                                  fake_gcs: str, gcs_bucket: str) -> None:
    """The inbox on a real GCS API while the warehouse stays the embedded DuckDB file."""
    from resources.object_store import GCSObjectStore

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs)
    monkeypatch.setenv("ECOMMERCE_INBOX_URI", f"gs://{gcs_bucket}/landing")
    resources = build_resources("local")
    inbox = resources["inbox_store"]
    assert isinstance(inbox, GCSObjectStore)
    assert (inbox.bucket, inbox.prefix) == (gcs_bucket, "landing")
    inbox.write_bytes("orders/date=2026-11-24/a.csv", b"id\n1\n")
    assert [o.key for o in inbox.list("orders/")] == ["orders/date=2026-11-24/a.csv"]
    assert Path(resources["archive_store"].root) == ecommerce_home / "buckets" / "archive"


def test_every_asset_downstream_of_bronze_is_automated(ecommerce_home: Path) -> None:
    from ecommerce_assets import definitions

    graph = definitions.defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] != "bronze":
            assert node.automation_condition is not None, key
            assert node.pools == {"warehouse"}, key
    sensors = {s.name: s for s in definitions.defs.get_repository_def().sensor_defs}
    assert {"inbox_sensor", "automation"} <= set(sensors)
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
