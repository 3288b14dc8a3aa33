"""Benchmark: seed.py at a given scale (default 1.0), wall time and peak RSS.

    python bench/seed.py [--scale 1.0]

Runs seed.py under ``/usr/bin/time -v`` into a temporary folder and reports rows, wall
seconds, rows/s and peak RSS, beside a baseline measured in the same run: re-writing the
same CSV bytes with plain pyarrow (read + write, no generation), i.e. the I/O floor.
Targets (issue 2): scale 1.0 in <= 90 s wall and <= 4 GB peak RSS on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--scale", type=float, default=1.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cmd = ["/usr/bin/time", "-v", sys.executable, "test_data/thelook_ecommerce/seed.py",
               "--scale", str(args.scale), "--date", "2026-11-24", "--dest", str(tmp / "inbox"),
               "--state-dir", str(tmp / "state")]
        run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", run.stderr)
        h, m, s = wall.groups()
        wall_s = int(h or 0) * 3600 + int(m) * 60 + float(s)
        rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)[1])

        # Baseline: the same CSV files read and written again by plain pyarrow.
        started = time.perf_counter()
        files = sorted((tmp / "inbox").rglob("*.csv"))
        for f in files:
            pacsv.write_csv(pacsv.read_csv(f), tmp / "copy.csv")
        baseline_s = time.perf_counter() - started
        users = next((tmp / "inbox").glob("users/*/*.csv"))
        unique_email = duckdb.sql(
            f"SELECT count(DISTINCT email) / count(*) FROM read_csv('{users}')").fetchall()[0][0]

    total = summary["total_rows"]
    print(json.dumps({
        "scale": args.scale, "rows": total, "wall_s": round(wall_s, 2),
        "rows_per_s": round(total / wall_s), "peak_rss_mb": round(rss_kb / 1024),
        "generate_s": summary["seconds"]["generate"],
        "baseline_csv_rewrite_s": round(baseline_s, 2),
        "ratio_to_baseline": round(wall_s / baseline_s, 2),
        "users_unique_email_share": round(unique_email, 3),
        "targets": {"wall_s": 90, "peak_rss_mb": 4096},
        "within_targets": wall_s <= 90 and rss_kb / 1024 <= 4096,
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
