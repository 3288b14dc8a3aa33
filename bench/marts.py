"""Benchmark: rebuilding every marts table at scale 1.0 against refreshing gold.

    python bench/marts.py [--workdir DIR]

Prepares (or, with ``--workdir``, reuses) the warehouse of bench/gold.py (a seed at scale 1.0
plus one dirty day, ingested into bronze, silver refreshed). On a copy of it, each under
``/usr/bin/time -v``: gold, ``dg.materialize`` of every gold asset and check (its first,
full build, as bench/gold.py measures it); then the marts on the warehouse gold left
(they read ``gold.fx_rates``), ``dg.materialize`` of every marts asset and check (each a
whole rebuild). ``--repeat`` pairs (default 3), each on a fresh copy, compared by their
medians. The acceptance (issue 13): the marts run within 2x the gold run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bronze import timed  # bench/bronze.py: the /usr/bin/time harness
from gold import AS_OF, GOLD, prepare_silver  # bench/gold.py: the gold run, the warehouse

REPO = Path(__file__).resolve().parents[1]
MAX_RATIO = 2.0

MARTS = GOLD.replace("from ecommerce_assets.gold.assets import gold_definitions",
                     "from ecommerce_assets.marts.assets import marts_assets"
                     ).replace("dg.materialize(gold_definitions,", "dg.materialize(marts_assets,")


def summary(result: dict, wall: float, rss: float) -> dict:
    return {"run_with_checks_s": round(result["run_s"], 2),
            "refresh_s": round(sum(t["refresh_s"] or 0 for t in result["tables"].values()), 2),
            "process_wall_s": round(wall, 2), "peak_rss_mb": round(rss),
            "success": result["success"], "failed_checks": result["failed_checks"],
            "rows": {k: t["rows"] for k, t in result["tables"].items()},
            "steps_s": result["steps_s"]}


def measure_pair(warehouse: Path, work: Path) -> dict:
    """Gold then the marts on a fresh copy of the silver warehouse."""
    with tempfile.TemporaryDirectory(dir=work) as run_dir:
        home = Path(run_dir) / "home"
        home.mkdir()
        shutil.copyfile(warehouse, home / "warehouse.duckdb")
        os.sync()  # the copy's write-back must not compete with the runs it measures
        env = {**os.environ, "ECOMMERCE_HOME": str(home), "PYTHONPATH": str(REPO),
               "ECOMMERCE_AS_OF": AS_OF}
        gold = summary(*timed(["-c", GOLD], env))
        marts = summary(*timed(["-c", MARTS], env))
    return {"gold": gold, "marts": marts,
            "ratio": round(marts["run_with_checks_s"] / gold["run_with_checks_s"], 2)}


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--workdir", type=Path, help="keep the prepared warehouses here; reused if "
                   "they exist (skips seeding, ingestion and silver)")
    p.add_argument("--repeat", type=int, default=3,
                   help="gold/marts pairs, alternated: on a shared machine the load moves "
                        "between runs, so the medians are compared (default 3)")
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-marts-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        warehouse = prepare_silver(work)
        pairs = [measure_pair(warehouse, work) for _ in range(args.repeat)]
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)

    gold = statistics.median(p["gold"]["run_with_checks_s"] for p in pairs)
    marts = statistics.median(p["marts"]["run_with_checks_s"] for p in pairs)
    ok = all(p["gold"]["success"] and p["marts"]["success"] for p in pairs)
    print(json.dumps({"gold_median_s": gold, "marts_median_s": marts,
                      "marts_to_gold_ratio": round(marts / gold, 2),
                      "pair_ratios": [p["ratio"] for p in pairs], "max_ratio": MAX_RATIO,
                      "within_target": marts / gold <= MAX_RATIO and ok,
                      "last_pair": pairs[-1]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
