"""The silver assets on generated data: seed + 3 dirty days -> bronze -> silver through Dagster.

Blocking checks must pass, every bronze key must be in silver or explained in the rejects,
and silver must hold the version an independent pandas dedupe of bronze picks.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.automation import WAREHOUSE_POOL
from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.silver import schemas
from ecommerce_assets.silver.assets import silver_assets
from ecommerce_assets.silver.spec import SILVER_TABLES
from resources.deployment import build_resources
from tests.conftest import SEED_DAY, GeneratedSilver


@pytest.fixture(scope="module")
def silver_run(generated_silver: GeneratedSilver) -> tuple[dict, dg.ExecuteInProcessResult]:
    """Seed (scale 0.01) + 3 dirty days, every bronze partition, then every silver asset."""
    return generated_silver.resources, generated_silver.result


def query(resources: dict, sql: str) -> list[dict]:
    return resources["warehouse"].query_arrow(sql).to_pylist()


def test_all_blocking_checks_pass(silver_run) -> None:
    _, result = silver_run
    assert result.success
    checks = result.get_asset_check_evaluations()
    blocking = [c for c in checks if c.severity == dg.AssetCheckSeverity.ERROR]
    expected = {(t, n) for t, spec in SILVER_TABLES.items()
                for n in ("pandera_schema", "reconciles_with_bronze", *(r.name for r in spec.rules))}
    assert {(c.asset_key.path[1], c.check_name) for c in blocking} == expected
    assert [(c.asset_key.path[1], c.check_name) for c in blocking if not c.passed] == []
    # The warn-level structure checks ran too, each with its counts.
    warn = {(c.asset_key.path[1], c.check_name): c for c in checks
            if c.severity == dg.AssetCheckSeverity.WARN}
    assert ("orders", "num_of_item_matches_items") in warn
    assert all("orphans" in c.metadata for (_, name), c in warn.items()
               if name.startswith("orphan_"))
    assert len([k for k in warn if k[1].startswith("orphan_")]) == 7


def test_silver_reconciles_with_bronze(silver_run) -> None:
    resources, result = silver_run
    materialized = {e.asset_key.path[1]: e.step_materialization_data.materialization.metadata
                    for e in result.get_asset_materialization_events()}
    assert set(materialized) == set(SILVER_TABLES)
    for name, table in SILVER_TABLES.items():
        (row,) = query(resources, f"""
            SELECT (SELECT count(DISTINCT {table.key}) FROM bronze.{name}) AS bronze_keys,
                   (SELECT count(*) FROM silver.{name}) AS silver_rows,
                   (SELECT count(DISTINCT {table.key}) FROM silver.{name}) AS silver_keys,
                   (SELECT count(*) FROM ops.silver_rejects WHERE table_name = '{name}')
                       AS rejected""")
        assert row["bronze_keys"] == row["silver_rows"] + row["rejected"], (name, row)
        assert row["silver_keys"] == row["silver_rows"], name
        assert materialized[name]["dagster/row_count"].value == row["silver_rows"]
        assert materialized[name]["rows_rejected"].value == row["rejected"]
    # Dirty batches inject null emails: those users are the (only) rejects, with reasons.
    reasons = query(resources, "SELECT table_name, reason, count(*) AS n "
                               "FROM ops.silver_rejects GROUP BY ALL")
    assert [(r["table_name"], r["reason"]) for r in reasons] == [("users", "email is null")]
    assert reasons[0]["n"] > 0
    # Duplicates in files and superseded order versions were there to be removed.
    orders = materialized["orders"]
    assert orders["bronze_duplicates_in_file"].value > 0
    assert orders["bronze_superseded_versions"].value > 0


@pytest.mark.parametrize(("name", "column"), [("orders", "status"),
                                              ("order_items", "status"),
                                              ("users", "email")])
def test_silver_holds_the_version_a_pandas_dedupe_picks(silver_run, name: str,
                                                        column: str) -> None:
    resources, _ = silver_run
    table = SILVER_TABLES[name]
    bronze = resources["warehouse"].query_arrow(
        f"SELECT {table.key}, {column}, landing_date, processed_at, source_object, "
        f"source_line, is_duplicate_in_file FROM bronze.{name}").to_pandas()
    latest = (bronze[~bronze["is_duplicate_in_file"]]
              .sort_values(["landing_date", "processed_at", "source_object", "source_line"])
              .drop_duplicates(table.key, keep="last").set_index(table.key)[column])
    silver = resources["warehouse"].query_arrow(
        f"SELECT {table.key}, {column} FROM silver.{name}").to_pandas().set_index(table.key)
    expected = latest.loc[silver.index]
    expected = expected.str.strip().str.title() if column == "status" else expected.str.lower()
    assert (silver[column] == expected).all()
    if name == "orders":  # orders moved on in later batches, and silver shows the move
        moved = query(resources, "SELECT count(*) AS n FROM silver.orders o JOIN "
                                 "bronze.orders b USING (order_id) WHERE b.landing_date < "
                                 "o.landing_date AND lower(b.status) <> lower(o.status)")
        assert moved[0]["n"] > 0


def test_standardized_values_and_types(silver_run) -> None:
    resources, _ = silver_run
    assert {r["gender"] for r in query(resources, "SELECT DISTINCT gender FROM silver.users")
            } == {"Male", "Female"}
    statuses = {r["status"] for r in query(resources, "SELECT DISTINCT status FROM silver.orders")}
    assert statuses == set(schemas.ORDER_STATUSES)
    currencies = {r["c"] for r in query(resources, "SELECT DISTINCT sale_price_currency AS c "
                                                   "FROM silver.order_items")}
    assert currencies == {"USD", "EUR", "GBP", "JPY"}
    types = resources["warehouse"].query_arrow("SELECT * FROM silver.users LIMIT 0").schema
    assert str(types.field("age").type) == "int64"
    assert str(types.field("created_at").type) == "timestamp[us, tz=UTC]"


def test_asset_definitions(silver_run) -> None:
    _, result = silver_run
    keys = [(asset, key) for asset in silver_assets for key in asset.keys]
    assert len(keys) == 7
    for asset, key in keys:
        spec = asset.specs_by_key[key]
        name = key.path[1]
        assert key.path[0] == "silver" and spec.group_name == "silver"
        assert spec.automation_condition.get_label() == "refresh_on_upstream_change"
        assert asset.op.pool == WAREHOUSE_POOL
        assert {d.asset_key for d in spec.deps} == {
            dg.AssetKey(["bronze", t]) for t in SILVER_TABLES[name].bronze_tables}
        assert {"sql", "duckdb"} <= set(spec.kinds)
        assert spec.metadata["dagster/table_name"] == f"silver.{name}"
        columns = [c.name for c in spec.metadata["dagster/column_schema"].columns]
        assert columns == list(SILVER_TABLES[name].schema.columns)
    events = {e.asset_key.path[1]: e.step_materialization_data.materialization.metadata
              for e in result.get_asset_materialization_events()}
    assert "| id |" in events["events"]["preview"].value


def test_definitions_include_silver(ecommerce_home: Path) -> None:
    from ecommerce_assets import definitions

    graph = definitions.defs.resolve_asset_graph()
    assert {dg.AssetKey(["silver", t]) for t in SILVER_TABLES} <= graph.get_all_asset_keys()
    checks = {(k.asset_key.path[1], k.name) for k in graph.asset_check_keys}
    assert {("order_items", "orphan_order_id"), ("orders", "num_of_item_matches_items"),
            ("users", "pandera_schema")} <= checks


def test_a_landed_bronze_partition_requests_its_silver_tables(ecommerce_home: Path) -> None:
    defs = dg.Definitions(assets=[*bronze_assets, *silver_assets],
                          resources=build_resources("local"))
    with dg.instance_for_test() as instance:
        for key in (k for a in silver_assets for k in a.keys):  # silver exists, up to date
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert result.total_requested == 0
        instance.report_runless_asset_event(dg.AssetMaterialization(
            dg.AssetKey(["bronze", "products"]), partition=SEED_DAY.isoformat()))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                   cursor=result.cursor)
        requested = {r.key for r in result.results if r.true_subset.size}
        assert requested == {dg.AssetKey(["silver", "products"]),
                             dg.AssetKey(["silver", "inventory_items"])}
