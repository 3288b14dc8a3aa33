"""Acceptance: silver and gold built incrementally equal a full refresh of the same bronze,
row for row.

The scenario of tests/test_silver_incremental.py (a seed, three dirty days in two loads, a
backfilled seed day, objects of a day re-landed with corrected rows: rows dropped, so silver
deletes keys, statuses and costs changed, a user rejected, brands re-spelled, then silver's full
refresh job) drives bronze and silver and checks silver after every step; then gold is
materialized through Dagster (every gold asset and check, the reporting date a run tag), and
every gold table must equal what its whole SELECT gives on the silver of that moment (money to
the cent; other floats to 1e-9, as an average's last bits depend on the order rows are summed
in), and the keyed tables must have been refreshed by key, not rebuilt. Moving ``as_of`` back
must rebuild them, moving it forward must recompute the days that joined the cut (and rebuild
recency and churn), and a full refresh through run config must leave every row as the
incremental refreshes left it. Run on the embedded default (DuckDB + folders) and on the
BigQuery + GCS emulators.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.gold.assets import AS_OF_TAG, gold_definitions, gold_run_config
from ecommerce_assets.gold.refresh import FULL, INCREMENTAL, KEYED, UNCHANGED
from ecommerce_assets.gold.spec import GOLD_TABLES
from resources.deployment import build_resources
from tests.emulators import emulators, gcp_env  # noqa: F401  (fixtures)
from tests.test_silver_incremental import (
    DAYS,
    generate,
    load_bronze,
    query,
    refresh_silver,
    run_scenario,
)

AS_OF = DAYS[-1]


def normalized(rows: list[dict]) -> list[dict]:
    return [{k: round(v, 9) if isinstance(v, float) else v for k, v in r.items()}
            for r in rows]


def gold_rows(resources: dict, name: str, source: str | None = None) -> list[dict]:
    """The rows of a gold table (or of ``source``, a subquery of its columns), in key order."""
    table = GOLD_TABLES[name]
    order = ", ".join(table.key_columns)
    return normalized(query(resources, f"SELECT * FROM {source or table.warehouse_table} "
                                       f"ORDER BY {order}"))


def materialize_gold(resources: dict, as_of: dt.date = AS_OF,
                     full_refresh: bool = False) -> dict[str, str]:
    """Every gold asset and check in one run; name -> refresh mode."""
    result = dg.materialize(gold_definitions, resources=resources,
                            tags={AS_OF_TAG: as_of.isoformat()},
                            run_config=gold_run_config(full_refresh=True) if full_refresh
                            else None)
    assert result.success
    failed = [(c.asset_key.path[-1], c.check_name)
              for c in result.get_asset_check_evaluations() if not c.passed]
    assert failed == []
    return {e.asset_key.path[-1]: e.step_materialization_data.materialization.metadata[
        "refresh_mode"].value for e in result.get_asset_materialization_events()
        if "refresh_mode" in e.step_materialization_data.materialization.metadata}


def assert_equals_full_select(resources: dict, step: str, as_of: dt.date = AS_OF,
                              names: tuple[str, ...] = tuple(GOLD_TABLES)) -> None:
    """Every gold table (of ``names``) equals its whole SELECT now (in dependency order, so
    each SELECT reads gold tables already shown equal to theirs)."""
    for name, table in GOLD_TABLES.items():
        if name not in names:
            continue
        if table.seams:  # the standardizer's SELECT is spliced in by the asset; compare rows
            continue    # of the other columns through the SQL file's stand-in
        want = gold_rows(resources, name, f"(\n{table.select_sql(as_of=as_of)}\n)")
        got = gold_rows(resources, name)
        assert len(got) == len(want) > 0, (step, name)
        assert got == want, (step, name)
    if "users_enriched" not in names:
        return
    users = GOLD_TABLES["users_enriched"]
    columns = ", ".join(c for c in users.schema.columns if c != "standardized_address")
    want = gold_rows(resources, "users_enriched",
                     f"(SELECT {columns} FROM (\n{users.select_sql(as_of=as_of)}\n))")
    assert gold_rows(resources, "users_enriched", f"(SELECT {columns} FROM "
                                                  f"{users.warehouse_table})") == want, step


# The keyed gold tables' refresh mode after each silver step of the scenario.
EXPECTED_MODES = {"seed": FULL, "dirty days": INCREMENTAL, "unchanged": UNCHANGED,
                  "backfilled seed day": INCREMENTAL, "corrected day": INCREMENTAL,
                  "silver full refresh": INCREMENTAL}


def check_gold(resources: dict, step: str) -> None:
    """After a silver step: gold refreshed through Dagster, by key, equals its full SELECT."""
    modes = materialize_gold(resources)
    assert {modes[n] for n in KEYED} == {EXPECTED_MODES[step]}, (step, modes)
    assert_equals_full_select(resources, step)


def move_as_of_and_refresh_fully(resources: dict) -> None:
    """Only the date moves: recency, churn and the cut-off move with it (a full rebuild);
    then a full refresh (run config) leaves every row as the incremental refreshes left it."""
    earlier = DAYS[-2]
    modes = materialize_gold(resources, earlier)
    assert {modes[n] for n in KEYED} == {FULL}, modes
    assert_equals_full_select(resources, "as_of moved back", earlier)
    (row,) = query(resources, "SELECT MIN(days_since_last_order) AS d FROM "
                              "gold.customer_metrics")
    assert row["d"] == 0
    # Forward (a new reporting day): the days that joined the cut, by key; recency rebuilds.
    modes = materialize_gold(resources)
    assert {n: modes[n] for n in KEYED} == {
        "orders_enriched": INCREMENTAL, "customer_metrics": FULL,
        "product_performance": INCREMENTAL, "daily_sales": INCREMENTAL}, modes
    assert_equals_full_select(resources, "as_of moved forward")

    load_bronze(resources, DAYS[3])
    refresh_silver(resources)
    assert set(materialize_gold(resources).values()) <= {INCREMENTAL, FULL}
    incremental = {name: gold_rows(resources, name) for name in GOLD_TABLES}
    modes = materialize_gold(resources, full_refresh=True)
    assert {modes[n] for n in KEYED} == {FULL}
    for name in GOLD_TABLES:
        assert gold_rows(resources, name) == incremental[name], name


@pytest.mark.slow
def test_incremental_silver_and_gold_equal_a_full_refresh(ecommerce_home: Path,
                                                           tmp_path: Path) -> None:
    landed = tmp_path / "landed"
    generate(landed, tmp_path / "generator", "0.005", "150")
    resources = build_resources("local")
    run_scenario(resources, landed, lambda step: check_gold(resources, step))
    move_as_of_and_refresh_fully(resources)


@pytest.mark.slow
def test_incremental_silver_and_gold_equal_a_full_refresh_on_bigquery(
        gcp_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same scenario on the BigQuery + GCS emulators (the as_of moves and the full
    refresh by run config, the unchanged refresh and silver's full-refresh job take the same
    code paths as on DuckDB: not repeated here)."""
    monkeypatch.setenv("ECOMMERCE_HOME", str(tmp_path / "home"))
    landed = tmp_path / "landed"
    generate(landed, tmp_path / "generator", "0.002", "60")
    resources = build_resources("gcp")
    run_scenario(resources, landed, lambda step: check_gold(resources, step), every_step=False)


# Edits of the hand-built silver of test_gold_metrics that only keys gold cannot see in the
# changed rows themselves would miss: each is applied, then gold refreshed by key.
NOW = "CURRENT_TIMESTAMP"
EDITS = [
    # User 1's first order (2026-01-10) is cancelled: 2026-03-05, the day of an order that
    # did not change, is now their first day (daily_sales.new_customers moves there).
    ("a first order cancelled",
     [f"UPDATE silver.orders SET status = 'Cancelled', silver_updated_at = {NOW} "
      f"WHERE order_id = 1"]),
    # Item 4 moves from order 3 to order 5: order 3 (user 1) loses it.
    ("an item moved to another order",
     [f"UPDATE silver.order_items SET order_id = 5, silver_updated_at = {NOW} WHERE id = 4"]),
    # Silver deletes keys whose versions all vanished: no row is left to carry a timestamp.
    ("an order vanished (its items stay)", ["DELETE FROM silver.orders WHERE order_id = 2"]),
    ("an unsold unit vanished", ["DELETE FROM silver.inventory_items WHERE id = 301"]),
    ("a sold unit vanished", ["DELETE FROM silver.inventory_items WHERE id = 104"]),
    ("a user and a sold product vanished",
     ["DELETE FROM silver.users WHERE id = 2", "DELETE FROM silver.products WHERE id = 20"]),
]


def refresh_gold(wh, as_of: dt.date) -> dict[str, str]:
    """The keyed tables refreshed as their assets do it (the others are full rebuilds)."""
    from ecommerce_assets.gold.refresh import refresh_table

    return {name: refresh_table(wh, GOLD_TABLES[name], as_of=as_of).mode for name in KEYED}


def test_edits_gold_cannot_see_in_the_changed_rows(empty_bronze, tmp_path: Path) -> None:
    import shutil

    import pyarrow as pa

    from resources.warehouse import DuckDBWarehouse
    from tests.test_gold_metrics import AS_OF, silver_rows

    shutil.copyfile(empty_bronze.path, tmp_path / "w.duckdb")
    wh = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    for table, data in silver_rows().items():
        wh.execute(f"DELETE FROM silver.{table}")
        wh.load_table(f"silver.{table}", pa.Table.from_pylist(data), mode="append")
        # As a silver refresh writes them: every row has the time it last changed.
        wh.execute(f"UPDATE silver.{table} SET silver_updated_at = TIMESTAMP '2026-07-01'")
    resources = {"warehouse": wh}
    # The fixture's gold was refreshed by the empty_bronze fixture: this is the first build.
    modes = refresh_gold(wh, AS_OF)
    assert {modes[n] for n in KEYED} == {FULL}, modes
    assert_equals_full_select(resources, "fixture", AS_OF, KEYED)
    for step, statements in EDITS:
        for statement in statements:
            wh.execute(statement)
        modes = refresh_gold(wh, AS_OF)
        # By key: orders_enriched recomputes, a mart the edit does not touch stays as it is.
        assert modes["orders_enriched"] == INCREMENTAL, (step, modes)
        assert {modes[n] for n in KEYED} <= {INCREMENTAL, UNCHANGED}, (step, modes)
        assert_equals_full_select(resources, step, AS_OF, KEYED)
    # New FX rates change every converted price: orders_enriched and the marts rebuild.
    wh.execute("UPDATE gold.fx_rates SET rate_to_usd = rate_to_usd * 1.5 "
               "WHERE currency <> 'USD'")
    modes = refresh_gold(wh, AS_OF)
    assert {modes[n] for n in KEYED} == {FULL}, modes
    assert_equals_full_select(resources, "new FX rates", AS_OF, KEYED)
    # A row written around silver's refresh (no silver_updated_at) cannot be placed: full.
    wh.execute("INSERT INTO silver.orders (order_id, user_id, status, created_at) "
               "VALUES (8, 3, 'Complete', TIMESTAMP '2026-06-01 10:00:00')")
    modes = refresh_gold(wh, AS_OF)
    assert {modes[n] for n in KEYED} == {FULL}, modes
    assert_equals_full_select(resources, "a row without silver_updated_at", AS_OF, KEYED)


def test_a_first_build_prepares_the_statements_of_the_next_landing(
        ecommerce_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a first build (silver and gold in full), the next landing's incremental refreshes
    transpile none of their statements: the build put them in the transpile cache
    (Warehouse.prepare), so the first landing after a build costs what every later one does.
    (The checks' queries are not prepared.)"""
    import sqlglot

    from resources import warehouse as warehouse_module

    # The build must find nothing in memory: an earlier test of this process may have
    # transpiled the same statements (into its own home's cache).
    warehouse_module.transpile_cached.cache_clear()
    landed = tmp_path / "landed"
    generate(landed, tmp_path / "generator", "0.002", "40")
    resources = build_resources("local")
    inbox = resources["inbox_store"]
    for path in sorted(p for p in landed.rglob("*") if p.is_file()):
        inbox.upload_file(str(path.relative_to(landed)), path)
    load_bronze(resources, DAYS[0])
    assert set(refresh_silver(resources).values()) == {FULL}
    modes = materialize_gold(resources, as_of=DAYS[0])
    assert {modes[n] for n in KEYED} == {FULL}, modes

    load_bronze(resources, DAYS[1])
    warehouse_module.transpile_cached.cache_clear()  # as the landing's run process starts
    transpiled: list[str] = []
    real = sqlglot.transpile

    def spy(sql: str, *args, **kwargs):
        transpiled.append(sql)
        return real(sql, *args, **kwargs)

    monkeypatch.setattr(sqlglot, "transpile", spy)
    assert set(refresh_silver(resources).values()) == {INCREMENTAL}
    assert {m for n, m in refresh_gold(resources["warehouse"], DAYS[1]).items()
            if n != "customer_metrics"} == {INCREMENTAL}  # (recency: a new day rebuilds it)
    writes = [s.split(None, 2)[:2] for s in transpiled
              if not s.lstrip().upper().startswith(("SELECT", "WITH", "("))]
    assert writes == []
    assert transpiled, "the spy saw no transpile at all: it spies on nothing"
