"""Benchmark: gold after one incremental 1% day, by key against a full refresh.

    python bench/gold_incremental.py [--scale 0.1 --scale 1.0] [--workdir DIR]

For each scale (default 0.1 and 1.0; nothing above 1.0), in its own ``ECOMMERCE_HOME``: a
seed (2026-11-20) and one dirty day (2026-11-21) are generated, ingested into bronze, silver
is built and gold is built once (as of 2026-11-22). Then one more 1% day (2026-11-22) lands:
bronze ingests it, silver merges it, and gold is materialized twice on that same silver: by
key (the default), then with ``full_refresh: true`` (the baseline). Each is one
``dg.materialize`` of every gold asset and check in one process; it reports the SQL refresh
time and mode of every table, the sum of step durations and the run's wall time.
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
from silver import INGEST as SILVER_INGEST  # bench/silver.py

REPO = Path(__file__).resolve().parents[1]
SEED_DATE, DAY, NEXT_DAY = "2026-11-20", "2026-11-21", "2026-11-22"

# Bronze ingested as bench/silver.py does it, under this benchmark's run id.
INGEST = SILVER_INGEST.replace("bench-silver", "bench-gold-incremental")

# One layer in one process: argv = layer, as_of, full_refresh (0/1).
MATERIALIZE = """
import json, logging, sys, time
import dagster as dg
logging.disable(logging.INFO)
from resources.deployment import local_resources
layer, as_of, full = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
if layer == "silver":
    from ecommerce_assets.silver.assets import silver_assets as defs
    config, tags = None, {}
else:
    from ecommerce_assets.gold.assets import AS_OF_TAG, gold_run_config
    from ecommerce_assets.gold.assets import gold_definitions as defs
    config = gold_run_config(full_refresh=True) if full else None
    tags = {AS_OF_TAG: as_of}
started = time.perf_counter()
result = dg.materialize(defs, resources=local_resources(), run_config=config, tags=tags)
wall = time.perf_counter() - started
tables = {}
for e in result.get_asset_materialization_events():
    m = e.step_materialization_data.materialization.metadata
    tables[e.asset_key.path[-1]] = {
        "rows": m["dagster/row_count"].value,
        "refresh_s": m["refresh_seconds"].value if "refresh_seconds" in m else None,
        "mode": m["refresh_mode"].value if "refresh_mode" in m else None,
        "reason": m["refresh_reason"].value if "refresh_reason" in m else None}
steps = sum(e.event_specific_data.duration_ms for e in result.get_step_success_events())
print(json.dumps({"success": result.success, "wall_s": wall, "steps_s": steps / 1000,
                  "tables": tables}))
"""


def run(code: str, env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, check=True,
                          capture_output=True, text=True).stdout


def generate(env: dict, script: str, *args: str) -> None:
    subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{script}", *args],
                   cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)


def bench_scale(scale: str, work: Path) -> dict:
    home = work / f"scale-{scale}"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "ECOMMERCE_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("ECOMMERCE_AS_OF", None)
    env["ECOMMERCE_INBOX_SETTLE_S"] = "0"  # the files were just written, and are complete
    generate(env, "seed.py", "--scale", scale, "--date", SEED_DATE)
    generate(env, "generate.py", "--days", "1", "--date", DAY)
    run(INGEST, env, SEED_DATE, DAY)
    run(MATERIALIZE, env, "silver", NEXT_DAY, "0")
    build = json.loads(run(MATERIALIZE, env, "gold", NEXT_DAY, "0").splitlines()[-1])
    generate(env, "generate.py", "--days", "1", "--date", NEXT_DAY)
    run(INGEST, env, NEXT_DAY)
    run(MATERIALIZE, env, "silver", NEXT_DAY, "0")
    keyed = json.loads(run(MATERIALIZE, env, "gold", NEXT_DAY, "0").splitlines()[-1])
    full = json.loads(run(MATERIALIZE, env, "gold", NEXT_DAY, "1").splitlines()[-1])
    return {"scale": scale, "first_build": build, "incremental": keyed, "full": full}


def table(results: list[dict]) -> str:
    lines = ["| scale | table | rows | by key: mode | by key: SQL s | full refresh: SQL s |",
             "|---|---|---|---|---|---|"]
    for r in results:
        inc, full = r["incremental"]["tables"], r["full"]["tables"]
        for name, t in inc.items():
            if t["refresh_s"] is None:
                continue
            lines.append(f"| {r['scale']} | {name} | {t['rows']:,} | {t['mode']} | "
                         f"{t['refresh_s']:.3f} | {full[name]['refresh_s']:.3f} |")
        lines.append(f"| {r['scale']} | **all gold steps** (wall of the run) | | | "
                     f"**{r['incremental']['steps_s']:.2f} s** ({r['incremental']['wall_s']:.2f}"
                     f" s) | {r['full']['steps_s']:.2f} s ({r['full']['wall_s']:.2f} s) |")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--scale", action="append", help="repeatable; default 0.1 and 1.0")
    p.add_argument("--workdir", type=Path, help="keep the warehouses here")
    args = p.parse_args()
    scales = args.scale or ["0.1", "1.0"]
    if any(float(s) > 1.0 for s in scales):
        p.error("scales above 1.0 are not benchmarked here")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-gold-inc-"))
    try:
        results = [bench_scale(s, work) for s in scales]
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=1), file=sys.stderr)
    print(table(results))
    return 0 if all(r["incremental"]["success"] and r["full"]["success"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
