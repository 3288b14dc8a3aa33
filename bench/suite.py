"""``make bench``: the pipeline's benchmark suite; rewrites the generated part of BENCHMARKS.md.

    python bench/suite.py [--quick] [--output BENCHMARKS.md] [--workdir DIR]

Every figure stands beside a baseline measured in the same run:
- end to end through Dagster at the largest scale: a seed plus one 1% dirty day, as the
  sensor and automation run it: bronze in one ``dagster asset materialize`` process (both
  days in one run), then silver and gold in one run of another, each under
  ``/usr/bin/time -v``, against bench/floor.py (plain DuckDB, same inbox);
- the incremental 1% day after it, landing to gold (bronze partition, then silver and gold):
  step time per layer (from the run's event log) and process wall, against the floor
  rebuilding everything; and the day after it, as every later landing runs;
- scaling: the same end to end at every scale, with seconds per million bronze rows;
- bronze cleaning of one dirty order_items file: the agent against naive pandas
  (bench/cleaning.py).
The last scale's build (with its floor) and landings run ``--repeat`` times (3; ``--quick``:
1), each from the same state: the report shows the median repetition and lists them all.
``--quick`` runs small scales (a few minutes; tests/test_bench.py runs it at one scale without
the incremental day, to stay under 90 s). Only the text
between the two ``bench:`` markers of the output file is replaced; the rest is kept.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bronze import timed  # bench/bronze.py: the /usr/bin/time harness

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAYS = ("2026-11-20", "2026-11-21", "2026-11-22")  # seed, first 1% day, the incremental day
NEXT_DAY = "2026-11-23"  # the landing after it: caches as a running deployment has them
BRONZE, SILVER_GOLD = ("bronze",), ("silver", "gold")  # the layers of each run


@dataclass(frozen=True)
class Mode:
    name: str
    scales: tuple[float, ...]  # the last one is measured end to end and incrementally
    clean_orders: int  # new orders in the cleaning benchmark's dirty file
    # How often the last scale's build and landings run, each time from the same state: this
    # machine is shared, and one run of the same code varies by 5-10%; the median is shown.
    repeat: int = 1


FULL = Mode("full", (0.1, 0.3, 1.0), 50_000, repeat=3)
QUICK = Mode("quick", (0.005, 0.01), 2_000)

# Step times of a home's runs, oldest first, read from its Dagster instance: in all and by
# layer (a step key starts with its layer: silver__orders, silver_tables).
RUN_STEPS = """
import json
import dagster as dg
instance = dg.DagsterInstance.get()
out = []
for record in reversed(instance.get_run_records()):
    by_layer = {}
    for s in instance.get_run_step_stats(record.dagster_run.run_id):
        layer = s.step_key.split("_")[0]
        by_layer[layer] = by_layer.get(layer, 0) + (s.end_time or 0) - (s.start_time or 0)
    out.append({"steps_s": sum(by_layer.values()), "steps_by_layer": by_layer,
                "status": record.dagster_run.status.value})
print(json.dumps(out))
"""


@dataclass
class Home:
    """One ECOMMERCE_HOME with its Dagster instance and a copy of every file it landed."""

    root: Path
    scale: float
    runs: list[dict] = field(default_factory=list)

    @property
    def floor_inbox(self) -> Path:
        return self.root / "floor-inbox"

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "ECOMMERCE_HOME": str(self.root / "home"),
                "DAGSTER_HOME": str(self.root / "home" / "dagster_home"),
                "ECOMMERCE_INBOX_SETTLE_S": "0", "PYTHONPATH": str(REPO), **extra}

    def script(self, name: str, *args: str) -> None:
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{name}", *args],
                       cwd=REPO, env=self.env(), check=True, stdout=subprocess.DEVNULL)

    def land(self, *generate_args: str) -> None:
        """Generate files into the inbox and keep hard links for the floor (bronze archives them)."""
        self.script("generate.py", *generate_args)
        inbox = self.root / "home" / "buckets" / "inbox"
        for path in inbox.rglob("*.csv"):
            copy = self.floor_inbox / path.relative_to(inbox)
            if not copy.exists():  # the inbox may still hold the files of earlier days
                copy.parent.mkdir(parents=True, exist_ok=True)
                os.link(path, copy)

    def materialize(self, layers: tuple[str, ...], *args: str, as_of: str) -> dict:
        """The groups ``layers`` in one run of one ``dagster asset materialize`` process:
        wall and peak RSS."""
        cmd = [str(BIN / "dagster"), "asset", "materialize", "-m",
               "ecommerce_assets.definitions", "--select",
               ",".join(f"group:{layer}" for layer in layers), *args]
        run = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=REPO, capture_output=True,
                             text=True, env=self.env(ECOMMERCE_AS_OF=as_of))
        name = " + ".join(layers)
        if run.returncode:
            sys.exit(f"{name} failed ({run.returncode}):\n{run.stderr[-3000:]}")
        wall_s, rss_mb = _time_v(run.stderr)
        _log(f"scale {self.scale}: {name} {' '.join(args)} {wall_s:.1f} s")
        return {"layers": list(layers), "wall_s": wall_s, "peak_rss_mb": rss_mb}

    def snapshot(self) -> Path:
        """A copy of the home as it is now, for :meth:`restore`."""
        copy = self.root / "snapshot"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(self.root / "home", copy, symlinks=True)
        return copy

    def restore(self, copy: Path) -> None:
        shutil.rmtree(self.root / "home")
        shutil.copytree(copy, self.root / "home", symlinks=True)

    def run_pair(self, bronze_args: tuple[str, ...], as_of: str) -> list[dict]:
        """A bronze run, then one run of silver and gold (automation requests both in the
        same tick), as the sensor and automation run them; each with its step times."""
        runs = [self.materialize(BRONZE, *bronze_args, as_of=as_of),
                self.materialize(SILVER_GOLD, as_of=as_of)]
        for run, steps in zip(runs, self.steps()[-2:], strict=True):
            run.update(steps)
        return runs

    def steps(self) -> list[dict]:
        run = subprocess.run([sys.executable, "-c", RUN_STEPS], cwd=REPO, env=self.env(),
                             capture_output=True, text=True, check=True)
        return json.loads(run.stdout.strip().splitlines()[-1])


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _time_v(stderr: str) -> tuple[float, float]:
    import re

    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", stderr)
    h, m, s = wall.groups()
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)[1])
    return int(h or 0) * 3600 + int(m) * 60 + float(s), rss_kb / 1024


# The floor's marts against the project's: rows and revenue must agree, or the floor does
# less (or other) work than the pipeline it is the baseline of.
MARTS = {"daily_sales": "total_revenue", "customer_metrics": "total_spend",
         "product_performance": "total_revenue"}


def floor(home: Home, as_of: str) -> dict:
    db = home.root / "floor.duckdb"
    result, wall, rss = timed([str(REPO / "bench" / "floor.py"), str(home.floor_inbox),
                               "--as-of", as_of, "--db", str(db)])
    _log(f"scale {home.scale}: floor {wall:.1f} s")
    agree = _marts(db, "gold_{}") == _marts(home.root / "home" / "warehouse.duckdb", "gold.{}")
    db.unlink()
    return {**result, "wall_s": wall, "peak_rss_mb": rss, "marts_agree": agree}


def _marts(db: Path, name: str) -> dict[str, list]:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as conn:
        return {mart: conn.execute(f"SELECT count(*), round(sum({revenue}), 2) "
                                   f"FROM {name.format(mart)}").fetchall()
                for mart, revenue in MARTS.items()}


def repeated(home: Home, times: int, measure: Callable[[], dict],
             key: Callable[[dict], float]) -> dict:
    """``measure()`` run ``times`` times, each from the state ``home`` is in now: the median
    result by ``key``, with every repetition's key (in run order) as ``repeats``."""
    snapshot = home.snapshot() if times > 1 else None
    results = []
    for i in range(times):
        if i:
            home.restore(snapshot)
        results.append(measure())
    if snapshot:
        shutil.rmtree(snapshot)
    median = sorted(results, key=key)[len(results) // 2]
    return {**median, "repeats": [round(key(r), 3) for r in results]}


def _ratio(build: dict) -> float:
    return sum(r["wall_s"] for r in build["runs"]) / build["floor"]["total_s"]


def _landing_steps(landing: dict) -> float:
    return sum(r["steps_s"] for r in landing["runs"])


def end_to_end(work: Path, scale: float, incremental: bool, repeat: int = 1) -> dict:
    """Seed + one 1% day through Dagster and the floor (``repeat`` times, alternating, from
    the same seeded home); then, if asked, one more 1% day and the one after it (each landed
    ``repeat`` times from the same state)."""
    home = Home(work / f"scale-{scale}", scale)
    (home.root / "home" / "dagster_home").mkdir(parents=True)
    shutil.copyfile(REPO / "deploy" / "dagster.local.yaml",
                    home.root / "home" / "dagster_home" / "dagster.yaml")
    seed, day, next_day = DAYS
    home.script("seed.py", "--scale", str(scale), "--date", seed)
    home.land("--days", "1", "--date", day)
    _log(f"scale {scale}: seeded")
    build = repeated(home, repeat, lambda: {
        "runs": home.run_pair(("--partition-range", f"{seed}...{day}"), day),
        "floor": floor(home, day)}, _ratio)
    out = {"scale": scale, "runs": build["runs"], "floor": build["floor"],
           "repeats": build["repeats"]}
    if incremental:
        home.land("--days", "1", "--date", next_day)
        landing = repeated(home, repeat, lambda: {
            "runs": home.run_pair(("--partition", next_day), next_day)}, _landing_steps)
        out["incremental"], out["incremental_repeats"] = landing["runs"], landing["repeats"]
        out["incremental_floor"] = floor(home, next_day)
        # The day after: what every later landing costs (one more day of history).
        home.land("--days", "1", "--date", NEXT_DAY)
        landing = repeated(home, repeat, lambda: {
            "runs": home.run_pair(("--partition", NEXT_DAY), NEXT_DAY)}, _landing_steps)
        out["incremental_next"], out["incremental_next_repeats"] = (landing["runs"],
                                                                    landing["repeats"])
    shutil.rmtree(home.root)
    return out


def cleaning(work: Path, orders: int) -> dict:
    """One dirty order_items file (from a small seed's state), cleaned both ways."""
    root = work / "cleaning"
    env = {**os.environ, "ECOMMERCE_HOME": str(root), "PYTHONPATH": str(REPO)}
    for name, args in [("seed.py", ["--scale", "0.002", "--date", DAYS[0]]),
                       ("generate.py", ["--tables", "order_items", "--rows", str(orders),
                                        "--date", DAYS[1]])]:
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{name}", *args], cwd=REPO,
                       env=env, check=True, stdout=subprocess.DEVNULL)
    (path,) = (root / "buckets" / "inbox" / "order_items").glob(f"date={DAYS[1]}/*.csv")
    out = {"file_mb": path.stat().st_size / 2**20}
    for impl in ("project", "naive"):
        result, wall, rss = timed([str(REPO / "bench" / "cleaning.py"), impl, "order_items",
                                   str(path)])
        out[impl] = {**result, "wall_s": wall, "peak_rss_mb": rss}
        _log(f"cleaning: {impl} {wall:.1f} s")
    shutil.rmtree(root)
    return out


def machine() -> dict:
    import dagster
    import duckdb

    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"cpus": os.cpu_count(), "memory_gib": round(mem_kb / 2**20),
            "system": f"{platform.system()} {platform.machine()}",
            "python": platform.python_version(), "dagster": dagster.__version__,
            "duckdb": duckdb.__version__, "load_average": os.getloadavg()}


def run_suite(mode: Mode, work: Path, incremental: bool = True) -> dict:
    started = time.perf_counter()
    results = {"mode": mode.name, "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(), "scales": []}
    for scale in mode.scales:
        last = scale == mode.scales[-1]
        results["scales"].append(end_to_end(work, scale, incremental=incremental and last,
                                            repeat=mode.repeat if last else 1))
    results["cleaning"] = cleaning(work, mode.clean_orders)
    results["suite_s"] = time.perf_counter() - started
    return results


def main() -> int:
    from report import render, replace_section  # bench/report.py

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small scales: a few minutes")
    p.add_argument("--scales", type=lambda v: tuple(sorted(map(float, v.split(",")))),
                   help="comma-separated seed scales instead of the mode's (the largest is the "
                   "end-to-end and incremental one)")
    p.add_argument("--no-incremental", action="store_true", help="skip the incremental day")
    p.add_argument("--repeat", type=int, help="times the last scale's build and landings run "
                   "from the same state (the median is shown; default: 3, --quick 1)")
    p.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    p.add_argument("--json", type=Path, help="also write the raw figures here")
    p.add_argument("--workdir", type=Path, help="where the data goes (default: a temporary dir)")
    args = p.parse_args()
    mode = QUICK if args.quick else FULL
    mode = dataclasses.replace(mode, scales=args.scales or mode.scales,
                               repeat=args.repeat or mode.repeat)
    with tempfile.TemporaryDirectory(prefix="bench-", dir=args.workdir) as work:
        results = run_suite(mode, Path(work), incremental=not args.no_incremental)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    text = args.output.read_text() if args.output.exists() else "# Benchmarks\n"
    args.output.write_text(replace_section(text, render(results)))
    print(f"{args.output}: the generated section rewritten ({mode.name}, "
          f"{results['suite_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
