"""The bronze assets on generated data: seed + dirty days through Dagster, checks, metadata."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.quality import validate_in_warehouse
from resources.deployment import build_resources
from resources.fx_rates import STATIC_RATES_TO_USD
from tests.conftest import REPO

SEED_DAY = dt.date(2026, 11, 20)
DIRTY_DAYS = [dt.date(2026, 11, 21), dt.date(2026, 11, 22)]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seed (scale 0.01) and two dirty daily batches in an inbox; returns ECOMMERCE_HOME."""
    home = tmp_path_factory.mktemp("bronze") / "home"
    env = {"ECOMMERCE_HOME": str(home), "PATH": ""}
    for args in (["seed.py", "--scale", "0.01", "--date", SEED_DAY.isoformat()],
                 ["generate.py", "--days", "2", "--rows", "300", "--date",
                  DIRTY_DAYS[-1].isoformat()]):
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{args[0]}", *args[1:]],
                       cwd=REPO, env=env, check=True, capture_output=True)
    return home


@pytest.fixture(scope="module")
def materialized(landed: Path) -> tuple[dict, dg.ExecuteInProcessResult]:
    """Every bronze asset over the three days, as one range run per asset (single-run)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOMMERCE_HOME", str(landed))
        resources = build_resources("local")
        result = dg.materialize(bronze_assets, resources=resources, tags={
            "dagster/asset_partition_range_start": SEED_DAY.isoformat(),
            "dagster/asset_partition_range_end": DIRTY_DAYS[-1].isoformat()})
    return resources, result


def manifests(home: Path) -> list[dict]:
    return [json.loads(p.read_text())
            for p in sorted((home / "generator" / "manifests").glob("batch-*.json"))]


def query(resources: dict, sql: str) -> list[dict]:
    return resources["warehouse"].query_arrow(sql).to_pylist()


def test_range_run_materializes_every_partition_with_passing_checks(materialized) -> None:
    resources, result = materialized
    assert result.success
    partitions = {(e.asset_key.path[1], e.partition) for e in
                  result.get_asset_materialization_events()}
    days = [SEED_DAY.isoformat()] + [d.isoformat() for d in DIRTY_DAYS]
    assert partitions == {(t, d) for t in BRONZE_TABLES for d in days}
    checks = {(c.asset_key.path[1], c.check_name): c for c in
              result.get_asset_check_evaluations()}
    assert {c.passed for (_, name), c in checks.items() if name == "pandera_schema"} == {True}
    # Generated dirt quarantines ~0.2% of rows: below the 1% warning threshold.
    assert {c.passed for (_, name), c in checks.items() if name == "quarantine_rate"} == {True}
    events = next(e for e in result.get_asset_materialization_events()
                  if e.asset_key.path[1] == "events")
    metadata = events.step_materialization_data.materialization.metadata
    for key in ("dagster/row_count", "rows_quarantined", "duplicates_flagged", "objects_read",
                "preview", "partitions"):
        assert key in metadata
    (row,) = query(resources, "SELECT count(*) AS n FROM bronze.events")
    assert metadata["dagster/row_count"].value == row["n"]
    # The inbox objects the run read, with their generations (the sensor's first tick uses
    # them): the seed file and one batch file per dirty day.
    ingested = metadata["ingested_objects"].value
    inbox = resources["inbox_store"]
    assert ingested == {o.key: o.generation for o in inbox.list("events/")}
    assert len(ingested) == 1 + len(DIRTY_DAYS)


def test_rows_read_match_the_generator_and_are_all_accounted_for(materialized, landed) -> None:
    resources, _ = materialized
    registry = query(resources, "SELECT * FROM ops.file_registry")
    assert {r["status"] for r in registry} == {"loaded"}
    written = {f["key"]: f for m in manifests(landed) for f in m["files"]}
    by_key = {r["object_key"]: r for r in registry}
    for key, meta in written.items():
        entry = by_key[key]
        assert entry["rows_read"] == meta["rows"], key
        assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_quarantined"], key
        malformed = meta["malformed.bad_key"] + meta["malformed.bad_timestamp"]
        # A malformed row repeated by the duplicate dirt is quarantined twice.
        assert malformed <= entry["rows_quarantined"] <= 2 * malformed, key
        assert (meta["duplicates_injected"] - entry["rows_quarantined"]
                <= entry["duplicates_flagged"] <= meta["duplicates_injected"]), key


def test_dirt_is_cleaned_value_by_value(materialized) -> None:
    resources, _ = materialized
    for name, table in BRONZE_TABLES.items():
        for col in (c.name for c in table.source_columns if c.kind == "text"):
            (row,) = query(resources, f"""
                SELECT count(*) FILTER (WHERE {col} <> trim({col})) AS padded,
                       count(*) FILTER (WHERE lower({col}) IN
                           ('n/a', 'none', '-', 'missing', '#n/a', 'null', '')) AS sentinel
                FROM bronze.{name}""")
            assert row == {"padded": 0, "sentinel": 0}, (name, col)
    # Mixed case stays in bronze (silver standardizes it).
    statuses = {r["status"] for r in query(resources, "SELECT DISTINCT status FROM bronze.orders")}
    assert {"Complete", "complete", "COMPLETE"} <= statuses
    # Every timestamp format parsed: an order always has created_at.
    (row,) = query(resources, "SELECT count(*) FILTER (WHERE created_at IS NULL) AS n "
                              "FROM bronze.orders")
    assert row["n"] == 0


def test_currency_markers_convert_back_to_the_product_price(materialized) -> None:
    """sale_price is the product's retail price: in USD, both sides must agree again."""
    resources, _ = materialized
    rates = " ".join(f"WHEN '{c}' THEN {r}" for c, r in STATIC_RATES_TO_USD.items())
    rows = query(resources, f"""
        WITH p AS (SELECT id, any_value(retail_price * CASE coalesce(retail_price_value_type,
                   'USD') {rates} END) AS usd FROM bronze.products GROUP BY id
                   -- a repriced product (changes.py) has a price per version
                   HAVING COUNT(DISTINCT landing_date) = 1)
        SELECT i.sale_price_value_type AS code, count(*) AS n,
               max(abs(i.sale_price * CASE coalesce(i.sale_price_value_type, 'USD') {rates} END
                       - p.usd) / p.usd) AS worst
        FROM bronze.order_items i JOIN p ON p.id = i.product_id
        WHERE i.landing_date > DATE '{SEED_DAY}' GROUP BY ALL""")
    codes = {r["code"] for r in rows}
    assert {None, "USD", "EUR", "GBP", "JPY"} <= codes
    for r in rows:  # JPY is rounded to whole yen: within 1% on any price above $0.70
        assert r["worst"] < 0.01, r


def test_schema_check_reports_failures_with_a_sample(materialized) -> None:
    resources, _ = materialized
    wh = resources["warehouse"]
    wh.execute("CREATE TABLE bronze.users_broken AS SELECT * FROM bronze.users")
    wh.execute("UPDATE bronze.users_broken SET latitude = 123.0 WHERE id IN "
               "(SELECT id FROM bronze.users_broken LIMIT 3)")
    report = validate_in_warehouse(wh, "bronze.users_broken", BRONZE_TABLES["users"].schema)
    assert not report.passed
    (failure,) = report.failures
    assert (failure.column, failure.check, failure.failures) == ("latitude", "in_range", 3)
    assert [s["latitude"] for s in failure.sample] == [123.0] * 3


def test_rematerializing_a_day_is_idempotent(materialized, landed) -> None:
    resources, _ = materialized
    before = query(resources, "SELECT landing_date, count(*) AS n FROM bronze.events "
                              "GROUP BY ALL ORDER BY ALL")
    result = dg.materialize(bronze_assets, selection=[dg.AssetKey(["bronze", "events"])],
                            resources=resources, partition_key=DIRTY_DAYS[0].isoformat())
    assert result.success
    after = query(resources, "SELECT landing_date, count(*) AS n FROM bronze.events "
                             "GROUP BY ALL ORDER BY ALL")
    assert after == before
