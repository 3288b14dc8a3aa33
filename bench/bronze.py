"""Benchmark: the bronze ingestion agent on one full-scale dirty events batch (>= 2M rows).

    python bench/bronze.py [--workdir DIR] [--input BATCH.csv]

Builds the batch with seed.py (scale 1.0) + generate.py (115k orders -> ~2.3M events rows,
~430 MB), or reuses ``DIR``'s batch when ``--workdir`` already holds one, or takes
``--input``. Then, each under ``/usr/bin/time -v`` (wall, peak RSS), on a fresh home:
- the agent end to end: ``ingest_partition`` of ``events/date=2026-11-21`` into a local
  DuckDB warehouse (timed inside the process too, so import time is reported apart);
- the floor: plain DuckDB reading the same CSV as text and doing the same cleaning in SQL
  (trim, null sentinels, BIGINT ids, created_at in any known format, a duplicate flag).
Targets: >= 200k rows/s and <= 3x the floor's wall time, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATE = "2026-11-21"
BATCH = Path("events", f"date={DATE}", "batch_0001.csv")
TARGETS = {"rows_per_s": 200_000, "ratio_to_floor": 3.0}

AGENT = """
import datetime as dt, json, sys, time
from ecommerce_assets.bronze.ingest import Buckets, ingest_partition
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from resources.deployment import local_resources
r = local_resources()
b = Buckets(r["inbox_store"], r["staging_store"], r["archive_store"], r["quarantine_store"])
started = time.perf_counter()
rep = ingest_partition(BRONZE_TABLES["events"], dt.date.fromisoformat(sys.argv[1]),
                       warehouse=r["warehouse"], buckets=b, run_id="bench")
print(json.dumps({"seconds": time.perf_counter() - started, "rows_loaded": rep.rows,
                  "rows_read": rep.total("rows_read"),
                  "rows_quarantined": rep.total("rows_quarantined"),
                  "duplicates_flagged": rep.total("duplicates_flagged"),
                  "statuses": [e["status"] for e in rep.registry]}))
"""

COLUMNS = ["id", "user_id", "sequence_number", "session_id", "created_at", "ip_address",
           "city", "state", "postal_code", "browser", "traffic_source", "uri", "event_type"]
FORMATS = ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d %H:%M:%S",
           "%Y/%m/%d %H:%M:%S", "%d-%b-%Y %H:%M:%S", "%a, %d %b %Y %H:%M:%S GMT"]
SENTINELS = ["n/a", "none", "-", "missing", "#n/a", "null", ""]
TYPED = {"id": "TRY_CAST(c_id AS BIGINT)", "user_id": "TRY_CAST(c_user_id AS BIGINT)",
         "sequence_number": "TRY_CAST(c_sequence_number AS BIGINT)",
         "created_at": f"coalesce(try_strptime(c_created_at, {FORMATS!r}),"
                       " epoch_ms(TRY_CAST(c_created_at AS BIGINT) * 1000))"}
FLOOR_SQL = f"""
CREATE MACRO clean(x) AS CASE WHEN lower(trim(x)) IN ({", ".join(map(repr, SENTINELS))})
                              THEN NULL ELSE trim(x) END;
CREATE TABLE bronze_events AS
WITH raw AS (SELECT * FROM read_csv('{{path}}', all_varchar = true, header = true)),
cleaned AS (
  SELECT {", ".join(f"clean({c}) AS c_{c}" for c in COLUMNS)},
         row_number() OVER (PARTITION BY hash({", ".join(COLUMNS)})) > 1 AS is_duplicate
  FROM raw)
SELECT {", ".join(f"{TYPED.get(c, 'c_' + c)} AS {c}" for c in COLUMNS)}, is_duplicate
FROM cleaned;
"""
FLOOR = """
import duckdb, json, sys, time
started = time.perf_counter()
conn = duckdb.connect(sys.argv[3])
conn.execute("SET enable_progress_bar = false")
conn.execute(sys.argv[2].replace("{path}", sys.argv[1].replace("'", "''")))
seconds = time.perf_counter() - started
rows, dups, no_ts = conn.execute("SELECT count(*), count(*) FILTER (is_duplicate),"
                                 " count(*) FILTER (created_at IS NULL) FROM bronze_events").fetchone()
print(json.dumps({"seconds": seconds, "rows": rows, "duplicates_flagged": dups,
                  "created_at_null": no_ts}))
"""


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[dict, float, float]:
    """Run ``python args`` under /usr/bin/time -v: (last stdout line as JSON, wall s, RSS MB)."""
    run = subprocess.run(["/usr/bin/time", "-v", sys.executable, *args], cwd=REPO, env=env,
                         capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"failed ({run.returncode}):\n{run.stderr.split('Command being timed')[0]}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", run.stderr)
    h, m, s = wall.groups()
    wall_s = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)[1])
    return json.loads(run.stdout.strip().splitlines()[-1]), wall_s, rss_kb / 1024


def build_batch(work: Path) -> Path:
    """Seed scale 1.0, then one dirty events day into ``work/inbox`` (skipped if present)."""
    batch = work / "inbox" / BATCH
    if not batch.exists():
        for script, extra in [("seed.py", ["--scale", "1.0", "--date", "2026-11-20",
                                           "--dest", str(work / "seed")]),
                              ("generate.py", ["--rows", "115000", "--tables", "events",
                                               "--date", DATE, "--dest", str(work / "inbox")])]:
            subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{script}", *extra,
                            "--state-dir", str(work / "state")],
                           cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(work / "seed", ignore_errors=True)  # ~3 GB not needed afterwards
    return batch


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workdir", type=Path, help="keep the generated batch here; reused if "
                   "it already holds one (skips ~40 s of generation)")
    p.add_argument("--input", type=Path, help="an events CSV batch to ingest instead")
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-bronze-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        batch = args.input.resolve() if args.input else build_batch(work)
        batch_mb = batch.stat().st_size / 2**20
        with tempfile.TemporaryDirectory(dir=work) as run_dir:  # fresh warehouse + buckets
            home = Path(run_dir) / "home"
            landed = home / "buckets" / "inbox" / BATCH
            landed.parent.mkdir(parents=True)
            try:
                os.link(batch, landed)
            except OSError:
                shutil.copyfile(batch, landed)
            env = {**os.environ, "ECOMMERCE_HOME": str(home), "PYTHONPATH": str(REPO)}
            agent, agent_wall, agent_rss = timed(["-c", AGENT, DATE], env)
            floor, floor_wall, floor_rss = timed(
                ["-c", FLOOR, str(batch), FLOOR_SQL, str(Path(run_dir) / "floor.duckdb")])
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    ingest_s, floor_s = agent["seconds"], floor["seconds"]
    rows_per_s = agent["rows_read"] / ingest_s
    ratio = ingest_s / floor_s
    print(json.dumps({
        "rows": agent["rows_read"], "batch_mb": round(batch_mb),
        "agent": {"ingest_s": round(ingest_s, 2), "process_wall_s": round(agent_wall, 2),
                  "rows_per_s": round(rows_per_s), "peak_rss_mb": round(agent_rss),
                  **{k: agent[k] for k in ("rows_loaded", "rows_read", "rows_quarantined",
                                           "duplicates_flagged", "statuses")}},
        "floor": {"sql_s": round(floor_s, 2), "process_wall_s": round(floor_wall, 2),
                  "rows_per_s": round(floor["rows"] / floor_s), "peak_rss_mb": round(floor_rss),
                  **{k: floor[k] for k in ("rows", "duplicates_flagged", "created_at_null")}},
        "ratio_to_floor": round(ratio, 2),
        "targets": TARGETS,
        "within_targets": rows_per_s >= TARGETS["rows_per_s"]
        and ratio <= TARGETS["ratio_to_floor"],
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
