"""Benchmark: refreshing every gold table at scale 1.0 after one incremental day.

    python bench/gold.py [--workdir DIR]

Prepares (or, with ``--workdir``, reuses) the warehouse of bench/silver.py (a seed at scale
1.0 plus one dirty day, both bronze partitions ingested) and refreshes silver in it once.
Then, each under ``/usr/bin/time -v`` on its own copy of that warehouse file:
- gold: ``dg.materialize`` of every gold asset and check, as a run does it (``fx_rates``, the
  six SQL tables, their Pandera checks, the revenue reconciliation, the heatmap SVG); it
  reports the SQL refresh time of every table and the whole run;
- the floors, plain DuckDB on another copy: the three marts' bare aggregates (sum of
  sale_price per user, per product and per day over one order_items x orders join; no FX,
  no dimensions, no standardization), and the gold SQL itself, transpiled beforehand, run
  statement by statement (no Dagster, no checks, no heatmap: the baseline of the ratio).
Target: all gold tables refreshed in <= 20 s on the embedded default (2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bronze import timed  # bench/bronze.py: the /usr/bin/time harness
from silver import prepare  # bench/silver.py: seed + one day, ingested into bronze

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-11-21"
TARGET_S = 20.0

SILVER = """
import logging
import dagster as dg
logging.disable(logging.INFO)
from ecommerce_assets.silver.assets import silver_assets
from resources.deployment import local_resources
result = dg.materialize(silver_assets, resources=local_resources(), raise_on_error=False)
print('{"success": %s}' % str(result.success).lower())
"""

GOLD = """
import json, logging, time
import dagster as dg
logging.disable(logging.INFO)
from ecommerce_assets.gold.assets import gold_definitions
from resources.deployment import local_resources
started = time.perf_counter()
result = dg.materialize(gold_definitions, resources=local_resources(), raise_on_error=False)
run_s = time.perf_counter() - started
tables, steps = {}, {}
for e in result.get_asset_materialization_events():
    m = e.step_materialization_data.materialization.metadata
    tables[e.asset_key.path[-1]] = {"rows": m["dagster/row_count"].value,
                                    "refresh_s": m["refresh_seconds"].value
                                    if "refresh_seconds" in m else None}
for e in result.all_events:
    if e.event_type_value == "STEP_SUCCESS":
        steps[e.step_key] = round(e.event_specific_data.duration_ms / 1000, 2)
checks = [(c.asset_key.path[-1], c.check_name, c.passed) for c in
          result.get_asset_check_evaluations()]
print(json.dumps({"success": result.success, "run_s": run_s, "tables": tables,
                  "steps_s": steps, "failed_checks": [c[:2] for c in checks if not c[2]]}))
"""

FLOOR = """
import duckdb, json, sys, time
from types import SimpleNamespace
import datetime as dt
from ecommerce_assets.gold.refresh import refresh_statements
from ecommerce_assets.gold.spec import GOLD_TABLES
from resources.addresses import UspsAddressStandardizer
from resources.fx_rates import StaticFxRates
import sqlglot
conn = duckdb.connect(sys.argv[1])
conn.execute("SET enable_progress_bar = false")
conn.execute("SET TimeZone = 'UTC'")
conn.execute("CREATE SCHEMA IF NOT EXISTS gold_floor")
BASE = ("FROM silver.order_items i JOIN silver.orders o USING (order_id) "
        "WHERE i.status NOT IN ('Cancelled', 'Returned')")
started = time.perf_counter()
for name, key in (("per_user", "o.user_id"), ("per_product", "i.product_id"),
                  ("per_day", "CAST(o.created_at AS DATE)")):
    conn.execute(f"CREATE OR REPLACE TABLE gold_floor.{name} AS "
                 f"SELECT {key} AS k, SUM(i.sale_price) AS revenue, COUNT(*) AS items "
                 f"{BASE} GROUP BY 1")
bare = time.perf_counter() - started
# The gold SQL itself, transpiled beforehand, run by plain DuckDB (no Dagster, no checks).
conn.execute("CREATE SCHEMA IF NOT EXISTS gold")
conn.register("rates", StaticFxRates().rates([]))
conn.execute("CREATE OR REPLACE TABLE gold.fx_rates AS SELECT * FROM rates")
seams = SimpleNamespace(address_standardizer=UspsAddressStandardizer())
statements = [sqlglot.transpile(s, read="bigquery", write="duckdb")[0]
              for t in GOLD_TABLES.values()
              for s in refresh_statements(t, as_of=dt.date(2026, 11, 21), resources=seams)]
started = time.perf_counter()
for statement in statements:
    conn.execute(statement)
print(json.dumps({"bare": bare, "same_sql": time.perf_counter() - started}))
"""


def prepare_silver(work: Path) -> Path:
    """``work/silver/warehouse.duckdb``: the prepared bronze warehouse with silver refreshed."""
    home = prepare(work)
    silver_home = work / "silver"
    done = silver_home / "silver-ready"
    if not done.exists():
        shutil.rmtree(silver_home, ignore_errors=True)
        silver_home.mkdir(parents=True)
        shutil.copyfile(home / "warehouse.duckdb", silver_home / "warehouse.duckdb")
        env = {**os.environ, "ECOMMERCE_HOME": str(silver_home), "PYTHONPATH": str(REPO)}
        result, _, _ = timed(["-c", SILVER], env)
        if not result["success"]:
            sys.exit("silver refresh failed")
        done.touch()
    return silver_home / "warehouse.duckdb"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workdir", type=Path, help="keep the prepared warehouses here; reused if "
                   "they exist (skips ~1.5 min of seeding, ingestion and silver)")
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-gold-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        warehouse = prepare_silver(work)
        with tempfile.TemporaryDirectory(dir=work) as run_dir:  # fresh copies per measure
            gold_home = Path(run_dir) / "home"
            gold_home.mkdir()
            shutil.copyfile(warehouse, gold_home / "warehouse.duckdb")
            env = {**os.environ, "ECOMMERCE_HOME": str(gold_home), "PYTHONPATH": str(REPO),
                   "ECOMMERCE_AS_OF": AS_OF}
            gold, gold_wall, gold_rss = timed(["-c", GOLD], env)
            heatmap_kb = (gold_home / "reports" / "cohort_retention_heatmap.svg").stat().st_size
            floor_db = Path(run_dir) / "floor.duckdb"
            shutil.copyfile(warehouse, floor_db)
            floor, floor_wall, _ = timed(["-c", FLOOR, str(floor_db)],
                                         {**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    refresh_s = sum(t["refresh_s"] or 0 for t in gold["tables"].values())
    print(json.dumps({
        "gold": {"refresh_s": round(refresh_s, 2), "run_with_checks_s": round(gold["run_s"], 2),
                 "process_wall_s": round(gold_wall, 2), "peak_rss_mb": round(gold_rss),
                 "success": gold["success"], "tables": gold["tables"],
                 "steps_s": gold["steps_s"], "failed_checks": gold["failed_checks"],
                 "heatmap_kb": round(heatmap_kb / 1024)},
        "floor": {"bare_aggregates_s": round(floor["bare"], 2),
                  "same_sql_plain_duckdb_s": round(floor["same_sql"], 2),
                  "process_wall_s": round(floor_wall, 2)},
        "ratio_to_same_sql": round(refresh_s / floor["same_sql"], 2),
        "target_s": TARGET_S,
        "within_target": gold["run_s"] <= TARGET_S and gold["success"],
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
