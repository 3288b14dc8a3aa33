"""End to end on a real ``dagster dev`` (webserver + daemon): files land, gold follows.

Four landing days (a seed and three dirty daily batches) arrive in the inbox at once while
the daemon runs. The inbox sensor launches the bronze runs, the warehouse pool queues them
on the single DuckDB writer, and the automation sensor refreshes everything downstream,
once the burst has settled rather than once per partition. Then a day that lands only new
products must reach ``embeddings/product_catalog`` by itself, embedding only the new ones.
Then ``ecommerce backfill`` re-ingests the range through the daemon. All of it is observed
through the GraphQL API (and the DuckDB file, read-only, for the embedded products).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster_graphql import DagsterGraphQLClient

from ecommerce_assets.bronze.spec import BRONZE_TABLES
from tests.conftest import REPO
from tests.dagster_dev import DagsterDev, dagster_dev

TODAY = dt.datetime.now(dt.UTC).date()
DAYS = [TODAY - dt.timedelta(days=n) for n in (4, 3, 2, 1)]  # the seed day + 3 batches
CATALOG = "embeddings/product_catalog"
MATERIALIZATIONS = """
query($path: [String!]!) { assetNodes(assetKeys: [{path: $path}]) {
  assetMaterializations(limit: 10) { runId metadataEntries {
    label ... on IntMetadataEntry { intValue } } } } }
"""

ASSETS = """
{ assetNodes { assetKey { path } groupName isPartitioned
    partitionStats { numMaterialized numFailed }
    assetMaterializations(limit: 1) { runId } } }
"""
RUNS = """
{ runsOrError(limit: 500) { ... on Runs { results {
    runId status jobName tags { key value } assetSelection { path } } } } }
"""
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def land(home: Path, script: str, *args: str) -> None:
    subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{script}", *args], cwd=REPO,
                   env={"ECOMMERCE_HOME": str(home), "PATH": ""}, check=True,
                   capture_output=True)


def land_four_days(home: Path) -> None:
    land(home, "seed.py", "--scale", "0.01", "--date", DAYS[0].isoformat())
    land(home, "generate.py", "--days", "3", "--rows", "200", "--date", DAYS[-1].isoformat())


def product_ids(home: Path, table: str) -> set[int] | None:
    """Product ids in ``table``, or None while a run holds the DuckDB file or it is missing."""
    try:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            column = "product_id" if table.startswith("embeddings") else "id"
            return {r[0] for r in con.execute(f"SELECT {column} FROM {table}").fetchall()}
    except (duckdb.IOException, duckdb.CatalogException):
        return None


def latest_counts(dev: DagsterDev) -> dict[str, int]:
    node = dev.graphql(MATERIALIZATIONS, {"path": CATALOG.split("/")})["assetNodes"][0]
    entries = node["assetMaterializations"][0]["metadataEntries"]
    return {e["label"]: e.get("intValue") for e in entries}


def runs(dev: DagsterDev) -> list[dict]:
    found = dev.graphql(RUNS)["runsOrError"]["results"]
    for run in found:
        run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
    return found


def assets(dev: DagsterDev) -> dict[str, dict]:
    return {"/".join(a["assetKey"]["path"]): a for a in dev.graphql(ASSETS)["assetNodes"]}


def wait_until(condition, timeout_s: float, what: str, dev: DagsterDev):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{dev.log()[-4000:]}")
        time.sleep(2)


@pytest.mark.slow
def test_landed_files_flow_to_every_downstream_asset(tmp_path: Path) -> None:
    env = {"ECOMMERCE_SENSOR_INTERVAL_S": "2", "ECOMMERCE_SENSOR_DISCOVERY_S": "0"}
    with dagster_dev(tmp_path, env=env) as dev:
        wait_until(lambda: assets(dev), 120, "the code location", dev)
        land_four_days(tmp_path / "ecommerce")

        bronze = [f"bronze/{t}" for t in BRONZE_TABLES]

        def bronze_done() -> bool:
            nodes = assets(dev)
            return all(nodes[k]["partitionStats"]["numMaterialized"] == len(DAYS)
                       for k in bronze)

        wait_until(bronze_done, 420, "every bronze partition", dev)
        downstream = sorted(k for k, a in assets(dev).items() if a["groupName"] != "bronze")
        assert downstream, "no asset downstream of bronze"

        def downstream_done() -> bool:
            nodes = assets(dev)
            settled = all(r["status"] in FINISHED for r in runs(dev))
            return settled and all(nodes[k]["assetMaterializations"] for k in downstream)

        wait_until(downstream_done, 420, "every downstream asset", dev)
        all_runs = runs(dev)
        # No run lost the DuckDB lock race (each status read back with dagster-graphql's
        # client as well).
        client = DagsterGraphQLClient("127.0.0.1", port_number=int(dev.url.rsplit(":", 1)[1]))
        failed = [r for r in all_runs if r["status"] != "SUCCESS"
                  or client.get_run_status(r["runId"]) != dg.DagsterRunStatus.SUCCESS]
        assert not failed, failed

        # The sensor launched the bronze runs: one per landing day, more only when a
        # day's files were still arriving between two ticks.
        sensor_runs = [r for r in all_runs if r["tags"].get("dagster/sensor_name")
                       == "inbox_sensor"]
        assert {r["tags"]["dagster/partition"] for r in sensor_runs} == {
            d.isoformat() for d in DAYS}
        assert len(sensor_runs) <= 2 * len(DAYS)
        # Automation materialized everything downstream, without a storm: a handful of
        # runs for four bronze days x seven tables, not one per bronze partition.
        automation_runs = [r for r in all_runs if r["tags"].get("dagster/sensor_name")
                           == "automation"]
        automated = {"/".join(a["path"]) for r in automation_runs
                     for a in r["assetSelection"]}
        assert set(downstream) <= automated
        assert len(automation_runs) <= 6, [r["assetSelection"] for r in automation_runs]

        # A day that lands only new products: they reach the catalog by themselves, and
        # only they are embedded.
        home = tmp_path / "ecommerce"

        def catalog_matches_silver() -> set[int] | None:
            if not all(r["status"] in FINISHED for r in runs(dev)):
                return None
            silver = product_ids(home, "silver.products")
            catalog = product_ids(home, "embeddings.product_catalog")
            return catalog if silver and catalog == silver else None

        first = wait_until(catalog_matches_silver, 60, "the landed products embedded", dev)
        land(home, "generate.py", "--days", "1", "--rows", "150", "--tables", "products",
             "--date", TODAY.isoformat())
        second = wait_until(lambda: (ids := catalog_matches_silver()) and ids > first and ids,
                            300, "the new products embedded", dev)
        new = second - first
        assert new and min(new) > max(first)
        counts = latest_counts(dev)
        assert counts["embedded"] == len(new) and counts["reused"] == len(first)
        assert all(r["status"] == "SUCCESS" for r in runs(dev))

        # A multi-run backfill submitted to the daemon, as the UI does.
        before = {r["runId"] for r in all_runs}
        done = subprocess.run(
            [str(Path(sys.executable).with_name("ecommerce")), "backfill",
             DAYS[0].isoformat(), DAYS[-1].isoformat(), "--select", "group:bronze",
             "--url", dev.url, "--wait", "--timeout", "400"],
            capture_output=True, text=True, timeout=460)
        assert done.returncode == 0, done.stdout + done.stderr + dev.log()[-3000:]
        backfill_runs = [r for r in runs(dev) if r["runId"] not in before
                         and r["tags"].get("dagster/backfill")]
        assert backfill_runs and all(r["status"] == "SUCCESS" for r in backfill_runs)
        # Single-run backfill policy: the whole range in one run, not one per day.
        assert len(backfill_runs) <= len(BRONZE_TABLES)
        assert all(r["tags"].get("dagster/asset_partition_range_start") == DAYS[0].isoformat()
                   for r in backfill_runs)
