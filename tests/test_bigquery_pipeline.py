"""Acceptance: the whole pipeline with ``ECOMMERCE_DEPLOYMENT=gcp`` on both API emulators
equals the embedded default run on the same files.

A generated seed and two dirty days land in the fake-gcs inbox; the inbox sensor plans the
bronze runs; each planned run materializes its bronze partitions on BigQuery (staged
Parquet loaded from the staging bucket, one transaction per partition); then silver and
gold run their SQL as written. Every gold table is compared with the same pipeline on
DuckDB and local folders: same row counts, same keys, every value equal (money to the
cent, other floats to 1e-9 relative).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.gold.assets import gold_definitions
from ecommerce_assets.gold.spec import FX_RATES_TABLE, GOLD_TABLES
from ecommerce_assets.silver.assets import silver_assets
from resources.deployment import build_resources
from tests.conftest import REPO
from tests.emulators import emulators, gcp_env  # noqa: F401  (fixtures)

TODAY = dt.datetime.now(dt.UTC).date()
DAYS = [TODAY - dt.timedelta(days=n) for n in (2, 1, 0)]  # the seed day + 2 dirty days


def generate(folder: Path, home: Path) -> list[Path]:
    env = {"ECOMMERCE_HOME": str(home), "PATH": ""}
    for args in (["seed.py", "--scale", "0.005", "--date", DAYS[0].isoformat()],
                 ["generate.py", "--days", "2", "--rows", "150", "--date",
                  DAYS[-1].isoformat()]):
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{args[0]}", *args[1:],
                        "--dest", str(folder)], cwd=REPO, env=env, check=True,
                       capture_output=True)
    return sorted(p for p in folder.rglob("*") if p.is_file())


def run_pipeline(resources: dict, plan: list[dg.RunRequest]) -> dg.ExecuteInProcessResult:
    """Bronze as planned, then silver, then gold; returns the gold run."""
    for request in plan:
        result = dg.materialize(bronze_assets, resources=resources,
                                partition_key=request.partition_key,
                                selection=request.asset_selection, raise_on_error=True)
        assert result.success
    assert dg.materialize([*silver_assets, *bronze_assets], resources=resources,
                          selection=dg.AssetSelection.groups("silver")).success
    gold = dg.materialize(gold_definitions, resources=resources)
    assert gold.success
    return gold


def sensor_plan(resources: dict) -> list[dg.RunRequest]:
    from ecommerce_assets.definitions import defs
    from sensors.inbox_sensor import inbox_sensor

    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance,
                                          resources={"inbox_store": resources["inbox_store"]},
                                          definitions=defs)
        result = inbox_sensor(context)
    return sorted(result.run_requests, key=lambda r: r.partition_key)


MONEY = {"sale_price", "sale_price_usd", "unit_cost_usd", "total_spend", "avg_order_value",
         "total_revenue", "avg_sale_price", "avg_basket_size"}


def compare_rows(table: str, got: list[dict], want: list[dict]) -> None:
    """Assert ``got`` equals ``want`` row by row: money to the cent (the gold SQL rounds it as
    NUMERIC, so even half-cent ties agree; see sql/gold/orders_enriched.sql), every other
    float to 1e-9 relative, everything else exactly."""
    for g, w in zip(got, want, strict=True):
        for c, value in w.items():
            if c in MONEY and isinstance(value, float):
                assert abs(g[c] - value) < 0.005, (table, c, g, w)
            elif isinstance(value, float) and g[c] is not None:
                assert math.isclose(g[c], value, rel_tol=1e-9, abs_tol=1e-12), (table, c, g, w)
            else:
                assert g[c] == value, (table, c, g, w)


@pytest.mark.slow
def test_gcp_pipeline_on_emulators_equals_the_embedded_default(
        gcp_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECOMMERCE_AS_OF", DAYS[-1].isoformat())
    landed = tmp_path / "landed"
    files = generate(landed, tmp_path / "generator-home")
    assert len(files) >= 7 * 3 - 4  # every table on the seed day, most on dirty days

    # The embedded default: the same files in the local inbox.
    monkeypatch.setenv("ECOMMERCE_HOME", str(tmp_path / "local"))
    with monkeypatch.context() as local_env:  # local folders, not the gcp buckets
        for key in [k for k in gcp_env if k.endswith("_URI")]:
            local_env.delenv(key)
        local = build_resources("local")
    shutil.copytree(landed, local["inbox_store"].root, dirs_exist_ok=True)
    local_plan = sensor_plan(local)

    # gcp: the same files uploaded to the fake-gcs inbox under the same keys.
    gcp = build_resources("gcp")
    for path in files:
        gcp["inbox_store"].upload_file(str(path.relative_to(landed)), path)
    plan = sensor_plan(gcp)
    assert [r.partition_key for r in plan] == [d.isoformat() for d in DAYS]
    assert [sorted(k.to_user_string() for k in r.asset_selection) for r in plan] == \
        [sorted(k.to_user_string() for k in r.asset_selection) for r in local_plan]

    gold_run = run_pipeline(gcp, plan)
    run_pipeline(local, local_plan)
    # Cost in the UI: each gold materialization lists its BigQuery jobs and their bytes.
    for event in gold_run.get_asset_materialization_events():
        metadata = event.materialization.metadata
        assert metadata["bigquery/job_ids"].value, event.asset_key
        assert "bigquery/bytes_billed" in metadata and "bigquery/bytes_processed" in metadata

    wh_gcp, wh_local = gcp["warehouse"], local["warehouse"]
    for table in GOLD_TABLES.values():
        keys = ", ".join(table.key_columns)
        sql = f"SELECT * FROM {table.warehouse_table} ORDER BY {keys}"
        got = wh_gcp.query_arrow(sql).to_pylist()
        want = wh_local.query_arrow(sql).to_pylist()
        assert len(got) == len(want) > 0, table.name
        assert [[r[k] for k in table.key_columns] for r in got] == \
            [[r[k] for k in table.key_columns] for r in want], table.name
        assert list(got[0]) == list(want[0]), table.name
        compare_rows(table.name, got, want)
    rates = f"SELECT currency, rate_to_usd FROM {FX_RATES_TABLE} ORDER BY currency"
    assert wh_gcp.query_arrow(rates).to_pylist() == wh_local.query_arrow(rates).to_pylist()
    # Nothing lost on the way: bronze and quarantine rows per table equal on both.
    count = ("SELECT table_name, SUM(rows_loaded) AS loaded, SUM(rows_quarantined) AS q "
             "FROM ops.file_registry GROUP BY table_name ORDER BY table_name")
    assert wh_gcp.query_arrow(count).to_pylist() == wh_local.query_arrow(count).to_pylist()
