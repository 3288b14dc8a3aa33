"""End to end on a real ``dagster dev``: a product landing in the inbox ends up embedded in
``embeddings/product_catalog`` with no human action (inbox sensor -> bronze -> silver ->
automation -> embeddings), and only the new products are embedded."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO
from tests.dagster_dev import DagsterDev, dagster_dev
from tests.test_pipeline_e2e import FINISHED, assets, runs, wait_until

TODAY = dt.datetime.now(dt.UTC).date()
CATALOG = "embeddings/product_catalog"
MATERIALIZATIONS = """
query($path: [String!]!) { assetNodes(assetKeys: [{path: $path}]) {
  assetMaterializations(limit: 10) { runId metadataEntries {
    label ... on IntMetadataEntry { intValue } } } } }
"""


def land(home: Path, script: str, *args: str) -> None:
    subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{script}", *args], cwd=REPO,
                   env={"ECOMMERCE_HOME": str(home), "PATH": ""}, check=True,
                   capture_output=True)


def product_ids(home: Path, table: str) -> set[int] | None:
    """Product ids in ``table``, or None while a run holds the DuckDB file or it is missing."""
    try:
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
            column = "product_id" if table.startswith("embeddings") else "id"
            return {r[0] for r in con.execute(f"SELECT {column} FROM {table}").fetchall()}
    except (duckdb.IOException, duckdb.CatalogException):
        return None


def settled(dev: DagsterDev) -> bool:
    return all(r["status"] in FINISHED for r in runs(dev))


def latest_counts(dev: DagsterDev) -> dict[str, int]:
    node = dev.graphql(MATERIALIZATIONS, {"path": CATALOG.split("/")})["assetNodes"][0]
    entries = node["assetMaterializations"][0]["metadataEntries"]
    return {e["label"]: e.get("intValue") for e in entries}


@pytest.mark.slow
def test_a_landed_product_is_embedded_with_no_human_action(tmp_path: Path) -> None:
    home = tmp_path / "ecommerce"
    env = {"ECOMMERCE_SENSOR_INTERVAL_S": "2", "ECOMMERCE_SENSOR_DISCOVERY_S": "0"}
    with dagster_dev(tmp_path, env=env) as dev:
        wait_until(lambda: assets(dev), 120, "the code location", dev)
        land(home, "seed.py", "--scale", "0.01", "--date",
             (TODAY - dt.timedelta(days=1)).isoformat())

        def catalog_matches_silver() -> set[int] | None:
            if not settled(dev) or not assets(dev)[CATALOG]["assetMaterializations"]:
                return None
            silver, catalog = product_ids(home, "silver.products"), product_ids(
                home, "embeddings.product_catalog")
            return catalog if silver and catalog == silver else None

        first = wait_until(catalog_matches_silver, 480, "the seeded products embedded", dev)
        # A day that lands only new products: they must reach the catalog by themselves.
        land(home, "generate.py", "--days", "1", "--rows", "150", "--tables", "products",
             "--date", TODAY.isoformat())
        second = wait_until(lambda: (ids := catalog_matches_silver()) and ids > first and ids,
                            300, "the landed products embedded", dev)
        new = second - first
        assert new and min(new) > max(first)
        counts = latest_counts(dev)
        assert counts["embedded"] == len(new)
        assert counts["reused"] == len(first)
        failed = [r for r in runs(dev) if r["status"] != "SUCCESS"]
        assert not failed, failed
