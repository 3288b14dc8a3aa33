"""Benchmark: refreshing all seven silver tables at scale 1.0 after one incremental day.

    python bench/silver.py [--workdir DIR]

Prepares (or, with ``--workdir``, reuses) an ``ECOMMERCE_HOME`` holding a seed at scale 1.0
(2026-11-20) plus one dirty incremental day from generate.py (2026-11-21, the default 1% of
the seed), with both bronze partitions of every table ingested into the embedded DuckDB
warehouse (~3.4M bronze rows). Then, each under ``/usr/bin/time -v`` on its own copy of the
warehouse file:
- silver: ``dg.materialize`` of the seven silver assets and their checks, as a run does it;
  it reports the SQL refresh time of every table (temp table + silver table + rejects, one
  transaction each) and the whole run, checks included;
- the floor: plain DuckDB building the same seven tables with the bare dedupe only (no
  typing, no standardization, no rejects, no checks, no Dagster), once in the form the silver
  SQL uses (rank the narrow version columns, join the winning rows back: the baseline of
  the ratio) and once in the textbook form (``QUALIFY ROW_NUMBER() ... = 1`` on whole rows).
Target: the SQL refresh of all silver tables <= 15 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bronze import timed  # bench/bronze.py: the same /usr/bin/time harness

REPO = Path(__file__).resolve().parents[1]
SEED_DATE, DAY = "2026-11-20", "2026-11-21"
TARGET_S = 15.0

INGEST = """
import datetime as dt, sys
from ecommerce_assets.bronze.ingest import Buckets, ingest_partition
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from resources.deployment import local_resources
r = local_resources()
r["warehouse"].ensure_schemas()
b = Buckets(r["inbox_store"], r["staging_store"], r["archive_store"], r["quarantine_store"])
for day in sys.argv[1:]:
    for table in BRONZE_TABLES.values():
        ingest_partition(table, dt.date.fromisoformat(day), warehouse=r["warehouse"],
                         buckets=b, run_id="bench-silver")
"""

SILVER = """
import json, logging, time
import dagster as dg
logging.disable(logging.INFO)
from ecommerce_assets.silver.assets import silver_assets
from resources.deployment import local_resources
started = time.perf_counter()
result = dg.materialize(silver_assets, resources=local_resources(), raise_on_error=False)
run_s = time.perf_counter() - started
tables = {}
for e in result.get_asset_materialization_events():
    m = e.step_materialization_data.materialization.metadata
    tables[e.asset_key.path[-1]] = {"rows": m["dagster/row_count"].value,
                                    "refresh_s": m["refresh_seconds"].value,
                                    "rejected": m["rows_rejected"].value}
checks = [(c.asset_key.path[-1], c.check_name, c.passed, c.severity.value)
          for c in result.get_asset_check_evaluations()]
print(json.dumps({"success": result.success, "run_s": run_s, "tables": tables,
                  "blocking_failed": [c[:2] for c in checks if c[3] == "ERROR" and not c[2]],
                  "warnings": [c[:2] for c in checks if c[3] == "WARN" and not c[2]]}))
"""

KEYS = {"distribution_centers": "id", "products": "id", "users": "id", "orders": "order_id",
        "order_items": "id", "inventory_items": "id", "events": "id"}
FLOOR = """
import duckdb, json, sys, time
keys = json.loads(sys.argv[2])
conn = duckdb.connect(sys.argv[1])
conn.execute("SET enable_progress_bar = false")
conn.execute("CREATE SCHEMA IF NOT EXISTS dedupe_floor")
ORDER = "landing_date DESC, processed_at DESC, source_object DESC, source_line DESC"
DEDUPE = {
    # The textbook form: rank whole rows.
    "naive": "SELECT * FROM bronze.{t} WHERE NOT is_duplicate_in_file "
             "QUALIFY ROW_NUMBER() OVER (PARTITION BY {k} ORDER BY {o}) = 1",
    # The form the silver SQL uses: rank the narrow version columns, join the rows back.
    "narrow": "SELECT b.* FROM bronze.{t} AS b JOIN (SELECT {k}, landing_date, source_object, "
              "source_line FROM bronze.{t} WHERE NOT is_duplicate_in_file QUALIFY ROW_NUMBER() "
              "OVER (PARTITION BY {k} ORDER BY {o}) = 1) AS w "
              "USING ({k}, landing_date, source_object, source_line) "
              "WHERE NOT b.is_duplicate_in_file",
}
out = {}
for name, sql in DEDUPE.items():
    started = time.perf_counter()
    rows = 0
    for t, k in keys.items():
        conn.execute(f"CREATE OR REPLACE TABLE dedupe_floor.{t} AS "
                     + sql.format(t=t, k=k, o=ORDER))
        rows += conn.execute(f"SELECT count(*) FROM dedupe_floor.{t}").fetchall()[0][0]
    out[name] = {"seconds": time.perf_counter() - started, "rows": rows}
print(json.dumps(out))
"""


def prepare(work: Path) -> Path:
    """Seed + one dirty day landed and ingested into bronze under ``work/home`` (reused)."""
    home = work / "home"
    done = home / "bronze-ready"
    if done.exists():
        return home
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "ECOMMERCE_HOME": str(home), "PYTHONPATH": str(REPO)}
    for script, extra in [("seed.py", ["--scale", "1.0", "--date", SEED_DATE]),
                          ("generate.py", ["--days", "1", "--date", DAY])]:
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{script}", *extra],
                       cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, "-c", INGEST, SEED_DATE, DAY], cwd=REPO, env=env,
                   check=True)
    # The originals are archived by ingestion; the bench needs only the warehouse.
    for bucket in ("inbox", "archive", "staging"):
        shutil.rmtree(home / "buckets" / bucket, ignore_errors=True)
    done.touch()
    return home


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workdir", type=Path, help="keep the prepared bronze warehouse here; "
                   "reused if it already holds one (skips ~1 min of seeding and ingestion)")
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-silver-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        home = prepare(work)
        warehouse = home / "warehouse.duckdb"
        with tempfile.TemporaryDirectory(dir=work) as run_dir:  # fresh copies per measure
            silver_home = Path(run_dir) / "home"
            silver_home.mkdir()
            shutil.copyfile(warehouse, silver_home / "warehouse.duckdb")
            env = {**os.environ, "ECOMMERCE_HOME": str(silver_home), "PYTHONPATH": str(REPO)}
            silver, silver_wall, silver_rss = timed(["-c", SILVER], env)
            floor_db = Path(run_dir) / "floor.duckdb"
            shutil.copyfile(warehouse, floor_db)
            floor, floor_wall, floor_rss = timed(["-c", FLOOR, str(floor_db), json.dumps(KEYS)])
            bronze_rows = _bronze_rows(floor_db)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    refresh_s = sum(t["refresh_s"] for t in silver["tables"].values())
    print(json.dumps({
        "bronze_rows": bronze_rows,
        "silver": {"refresh_s": round(refresh_s, 2), "run_with_checks_s": round(silver["run_s"], 2),
                   "process_wall_s": round(silver_wall, 2), "peak_rss_mb": round(silver_rss),
                   "success": silver["success"], "tables": silver["tables"],
                   "blocking_failed": silver["blocking_failed"], "warnings": silver["warnings"]},
        "floor": {"narrow_dedupe_s": round(floor["narrow"]["seconds"], 2),
                  "naive_dedupe_s": round(floor["naive"]["seconds"], 2),
                  "rows": floor["narrow"]["rows"], "process_wall_s": round(floor_wall, 2),
                  "peak_rss_mb": round(floor_rss)},
        "ratio_to_floor": round(refresh_s / floor["narrow"]["seconds"], 2),
        "target_refresh_s": TARGET_S,
        "within_target": refresh_s <= TARGET_S and silver["success"],
    }, indent=2))
    return 0


def _bronze_rows(db: Path) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        return sum(conn.execute(f"SELECT count(*) FROM bronze.{t}").fetchall()[0][0]
                   for t in KEYS)


if __name__ == "__main__":
    sys.exit(main())
