"""Acceptance: silver built incrementally equals a full refresh of the same bronze, row for row.

A generated seed and three dirty days land in the inbox; bronze is loaded the seed day, then
one dirty day, then two more, and silver refreshed after each load (the first build is a full
refresh, every later one merges what bronze changed). Then an old day is re-ingested (a backfill: the same rows with a
newer ``processed_at``), and objects of another day are re-landed with corrected rows (rows
dropped, values changed, a user's email blanked so the user is rejected, and new products
that change which spelling of a brand is canonical, which touches rows of products and
inventory items no bronze row of that day names). After every step each silver table and its
rejects must equal what the full SELECT gives on the bronze of that moment; at the end a
full refresh through Dagster (the ``silver_full_refresh`` job, whose run config sets
``full_refresh: true``) must leave every row as the
incremental refreshes left it. tests/test_gold_incremental.py runs the scenario, on the embedded
default (DuckDB + folders) and on the BigQuery + GCS emulators, checking gold after every step.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.silver.assets import silver_assets, silver_full_refresh_job
from ecommerce_assets.silver.refresh import (
    FULL,
    INCREMENTAL,
    UNCHANGED,
    UPDATED_COLUMN,
    WATERMARKS_TABLE,
    refresh_table,
)
from ecommerce_assets.silver.spec import REJECT_COLUMN, REJECTS_TABLE, SILVER_TABLES
from resources.deployment import build_resources
from tests.conftest import REPO

DAYS = [dt.date(2026, 11, 20) + dt.timedelta(days=n) for n in range(4)]  # seed + 3 dirty
CORRECTED_DAY = DAYS[1]
REJECT_FIELDS = "record_key, reason, source_object, source_line, landing_date, processed_at"


def generate(folder: Path, home: Path, scale: str, rows: str) -> None:
    env = {"ECOMMERCE_HOME": str(home), "PATH": ""}
    for args in (["seed.py", "--scale", scale, "--date", DAYS[0].isoformat()],
                 ["generate.py", "--days", "3", "--rows", rows, "--date",
                  DAYS[-1].isoformat()]):
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{args[0]}", *args[1:],
                        "--dest", str(folder)], cwd=REPO, env=env, check=True,
                       capture_output=True)


def query(resources: dict, sql: str) -> list[dict]:
    warehouse = resources["warehouse"]
    return warehouse.query_arrow(warehouse.transpile(sql)).to_pylist()


def silver_rows(resources: dict, name: str) -> list[dict]:
    table = SILVER_TABLES[name]
    columns = ", ".join(c for c in table.schema.columns if c != UPDATED_COLUMN)
    return query(resources, f"SELECT {columns} FROM {table.warehouse_table} "
                            f"ORDER BY {table.key}")


def assert_equals_full_select(resources: dict, step: str) -> None:
    """Every silver table and its rejects equal what its whole SELECT gives now."""
    for name, table in SILVER_TABLES.items():
        columns = ", ".join(c for c in table.schema.columns if c != UPDATED_COLUMN)
        select = f"(\n{table.select_sql()}\n)"
        want = query(resources, f"SELECT {columns} FROM {select} "
                                f"WHERE {REJECT_COLUMN} IS NULL ORDER BY {table.key}")
        got = silver_rows(resources, name)
        assert len(got) == len(want) > 0, (step, name)
        assert got == want, (step, name)
        want_rejects = query(
            resources, f"SELECT {table.key} AS record_key, {REJECT_COLUMN} AS reason, "
                       f"source_object, source_line, landing_date, processed_at FROM {select} "
                       f"WHERE {REJECT_COLUMN} IS NOT NULL ORDER BY record_key")
        got_rejects = query(resources, f"SELECT {REJECT_FIELDS} FROM {REJECTS_TABLE} WHERE "
                                       f"table_name = '{name}' ORDER BY record_key")
        assert got_rejects == want_rejects, (step, name)


def refresh_silver(resources: dict) -> dict[str, str]:
    """Every silver table refreshed the way its asset does it; name -> mode."""
    return {name: refresh_table(resources["warehouse"], table).mode
            for name, table in SILVER_TABLES.items()}


def load_bronze(resources: dict, first: dt.date, last: dt.date | None = None) -> None:
    """Every bronze table's landing days ``first``..``last`` in one run."""
    result = dg.materialize(bronze_assets, resources=resources, tags={
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": (last or first).isoformat()})
    assert result.success


def last_updates(resources: dict) -> dict[str, list[dict]]:
    """name -> [{silver_updated_at, n}]: how many rows each refresh last changed."""
    return {name: query(resources, f"SELECT {UPDATED_COLUMN} AS at, COUNT(*) AS n FROM "
                                   f"{t.warehouse_table} GROUP BY 1 ORDER BY 1")
            for name, t in SILVER_TABLES.items()}


def corrected(path: Path, edit) -> bytes:
    """The CSV at ``path`` with every third data row dropped and ``edit(rows)`` applied."""
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    kept = [r for i, r in enumerate(rows) if i % 3 != 2]
    kept = edit(kept) or kept
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
    writer.writeheader()
    writer.writerows(kept)
    return out.getvalue().encode()


def reland_corrected(resources: dict, landed: Path) -> str:
    """Corrected versions of the CORRECTED_DAY objects of five tables, written to the inbox
    under their keys; returns the brand whose canonical spelling they change."""
    (top,) = query(resources, "SELECT brand FROM silver.products "
                              "GROUP BY brand ORDER BY COUNT(*) DESC, brand LIMIT 1")
    brand = top["brand"]
    shouting = brand.upper() if brand.upper() != brand else brand.lower()
    # Every bronze version of a product counts towards its brand's spellings.
    (row,) = query(resources, f"SELECT COUNT(*) AS n FROM bronze.products WHERE "
                              f"LOWER(TRIM(brand)) = '{brand.lower()}'")

    def users(rows: list[dict]) -> None:
        rows[0]["email"] = ""  # now rejected
        rows[1]["first_name"] = "Corrected"

    def orders(rows: list[dict]) -> None:
        # Not a returned order: returned_at stays set exactly when the status is Returned.
        for order in [r for r in rows if not r["returned_at"].strip()][:5]:
            order["status"] = "Cancelled"

    def products(rows: list[dict]) -> list[dict]:
        # More new products spelling the brand another way than bronze has versions of the
        # brand: the other spelling becomes the canonical one.
        extra = [{**rows[0], "id": str(900_000 + i), "brand": shouting,
                  "sku": f"{900_000 + i:032X}"} for i in range(row["n"] + 1)]
        return rows + extra

    def items(rows: list[dict]) -> None:
        rows[0]["cost"] = "1.25"

    edits = {"users": users, "orders": orders, "products": products,
             "inventory_items": items, "order_items": lambda rows: None}
    inbox = resources["inbox_store"]
    for table, edit in edits.items():
        (path,) = (landed / table / f"date={CORRECTED_DAY.isoformat()}").glob("*.csv")
        inbox.write_bytes(str(path.relative_to(landed)), corrected(path, edit))
    return shouting


def run_scenario(resources: dict, landed: Path,
                 after_step: Callable[[str], None] = lambda step: None,
                 every_step: bool = True) -> None:
    """The scenario; ``after_step(step)`` runs after every silver step is shown equal (the
    gold test refreshes and checks gold there: one scenario drives both layers). Without
    ``every_step`` the steps whose SQL is warehouse-neutral bookkeeping (an unchanged
    refresh, the full-refresh job) are left out: the emulator's statements are slow."""
    inbox = resources["inbox_store"]
    for path in sorted(p for p in landed.rglob("*") if p.is_file()):
        inbox.upload_file(str(path.relative_to(landed)), path)

    load_bronze(resources, DAYS[0])
    assert set(refresh_silver(resources).values()) == {FULL}  # the first build
    assert_equals_full_select(resources, "seed")
    after_step("seed")

    # One dirty day, then two more in one refresh.
    for first, last in ((DAYS[1], DAYS[1]), (DAYS[2], DAYS[3])):
        before = last_updates(resources)
        load_bronze(resources, first, last)
        assert set(refresh_silver(resources).values()) == {INCREMENTAL}
        assert_equals_full_select(resources, last.isoformat())
        after_step("dirty days")
        # Only what the days brought was touched: most rows of the first build are as they
        # were.
        after = last_updates(resources)
        assert after["events"][0]["at"] == before["events"][0]["at"], last
        assert after["events"][0]["n"] > before["events"][0]["n"] / 2, last

    # Nothing changed in bronze: nothing runs, nothing is rewritten.
    if every_step:
        before = last_updates(resources)
        assert set(refresh_silver(resources).values()) == {UNCHANGED}
        assert last_updates(resources) == before
        after_step("unchanged")

    # A backfill of the seed day: newer processed_at, older landing day.
    load_bronze(resources, DAYS[0])
    refresh_silver(resources)
    assert_equals_full_select(resources, "backfilled seed day")
    after_step("backfilled seed day")

    # Objects re-landed with corrected rows, and the day ingested again.
    shouting = reland_corrected(resources, landed)
    load_bronze(resources, CORRECTED_DAY)
    assert set(refresh_silver(resources).values()) == {INCREMENTAL}
    assert_equals_full_select(resources, "corrected day")
    after_step("corrected day")
    # The correction reached rows of both tables the brand lookup decides.
    for name, column in (("products", "brand"), ("inventory_items", "product_brand")):
        (row,) = query(resources, f"SELECT COUNTIF({column} = '{shouting}') AS n "
                                  f"FROM silver.{name}")
        assert row["n"] > 0, name
    (row,) = query(resources, f"SELECT COUNT(*) AS n FROM {REJECTS_TABLE} "
                              f"WHERE table_name = 'users'")
    assert row["n"] > 0

    # A full refresh through Dagster (the job's run config) leaves every row as it is.
    if not every_step:
        return
    incremental = {name: silver_rows(resources, name) for name in SILVER_TABLES}
    rejects = query(resources, f"SELECT table_name, {REJECT_FIELDS}, record FROM "
                               f"{REJECTS_TABLE} ORDER BY table_name, record_key")
    defs = dg.Definitions(assets=[*silver_assets, *bronze_assets],
                          jobs=[silver_full_refresh_job], resources=resources)
    result = defs.resolve_job_def("silver_full_refresh").execute_in_process()
    assert result.success
    modes = {e.asset_key.path[1]:
             e.step_materialization_data.materialization.metadata["refresh_mode"].value
             for e in result.get_asset_materialization_events()}
    assert modes == dict.fromkeys(SILVER_TABLES, FULL)
    for name in SILVER_TABLES:
        assert silver_rows(resources, name) == incremental[name], name
    assert query(resources, f"SELECT table_name, {REJECT_FIELDS}, record FROM "
                            f"{REJECTS_TABLE} ORDER BY table_name, record_key") == rejects
    after_step("silver full refresh")


def test_schema_or_sql_changes_mean_a_full_refresh(ecommerce_home: Path) -> None:
    """A missing table, other columns, or watermarks of another SQL definition: full."""
    from ecommerce_assets.bronze.spec import BRONZE_TABLES
    from ecommerce_assets.silver.refresh import choose_mode

    warehouse = build_resources("local")["warehouse"]
    table = SILVER_TABLES["orders"]
    bronze = BRONZE_TABLES["orders"]
    warehouse.load_table(bronze.warehouse_table, bronze.arrow_schema.empty_table())
    assert choose_mode(warehouse, table)[:2] == (FULL, True)
    refresh_table(warehouse, table)
    # Empty bronze leaves no watermark: every refresh is a (cheap) full one.
    assert choose_mode(warehouse, table)[0] == FULL
    warehouse.execute(f"INSERT INTO {WATERMARKS_TABLE} VALUES "
                      f"('orders', DATE '2026-11-20', TIMESTAMP '2026-11-20 00:00:00', 'old')")
    assert choose_mode(warehouse, table)[2] == "the SQL definition changed"
    warehouse.execute(f"DELETE FROM {WATERMARKS_TABLE} WHERE TRUE")
    from ecommerce_assets.silver.refresh import definition
    warehouse.execute(f"INSERT INTO {WATERMARKS_TABLE} VALUES ('orders', DATE '2026-11-20', "
                      f"TIMESTAMP '2026-11-20 00:00:00', '{definition(table)}')")
    # The watermark names a landing day bronze does not have (any more): it changed.
    assert choose_mode(warehouse, table)[:2] == (INCREMENTAL, False)
    assert choose_mode(warehouse, table, full_refresh=True)[:2] == (FULL, False)
    warehouse.execute(f"ALTER TABLE {table.warehouse_table} DROP COLUMN {UPDATED_COLUMN}")
    assert choose_mode(warehouse, table)[:2] == (FULL, True)
    report = refresh_table(warehouse, table)
    assert report.mode == FULL
    assert warehouse.query_arrow(f"SELECT * FROM {table.warehouse_table} LIMIT 0"
                                 ).column_names == list(table.schema.columns)
