"""Profile the incremental 1% day (landing to gold) with pyinstrument.

    python bench/profile_day.py [--scale 1.0] [--workdir DIR] [--output profile.txt]

A seed and one 1% day (2026-11-20, -21) are built through every layer, as ``make bench``
does (a bronze process, then one of silver and gold); then the next 1% day lands and bronze,
then silver and gold in one run, materialize in this process under pyinstrument. It prints
each layer's step time (from the run's event log) and writes the profile as text: where the
step time of a small landing goes (``make bench`` gives the figures, this the reasons).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import BRONZE, DAYS, REPO, SILVER_GOLD, Home  # bench/suite.py


def build(work: Path, scale: float) -> Home:
    home = Home(work, scale)
    (home.root / "home" / "dagster_home").mkdir(parents=True)
    shutil.copyfile(REPO / "deploy" / "dagster.local.yaml",
                    home.root / "home" / "dagster_home" / "dagster.yaml")
    seed, day, next_day = DAYS
    home.script("seed.py", "--scale", str(scale), "--date", seed)
    home.land("--days", "1", "--date", day)
    home.materialize(BRONZE, "--partition-range", f"{seed}...{day}", as_of=day)
    home.materialize(SILVER_GOLD, as_of=day)
    home.land("--days", "1", "--date", next_day)
    return home


def profile(home: Home, output: Path) -> None:
    os.environ.update({k: v for k, v in home.env(ECOMMERCE_AS_OF=DAYS[2]).items()
                       if k.startswith(("ECOMMERCE_", "DAGSTER_"))})
    import logging

    import dagster as dg
    from pyinstrument import Profiler

    logging.getLogger("dagster").setLevel(logging.WARNING)  # not every event on the console

    from ecommerce_assets.definitions import defs

    instance = dg.DagsterInstance.get()
    profiler = Profiler(interval=0.005)
    for layers in (BRONZE, SILVER_GOLD):  # the runs the sensor and automation launch
        started = time.perf_counter()
        with profiler:  # start/stop around each run: the profile adds them up
            result = dg.materialize(
                list(defs.assets), selection=dg.AssetSelection.groups(*layers),
                resources=defs.resources, instance=instance,
                partition_key=DAYS[2] if layers == BRONZE else None)
        stats = instance.get_run_step_stats(result.run_id)
        for layer in layers:
            steps = sum(s.end_time - s.start_time for s in stats
                        if s.step_key.split("_")[0] == layer)
            print(f"{layer}: {'ok' if result.success else 'FAILED'}, steps {steps:.2f} s",
                  flush=True)
        print(f"  run wall {time.perf_counter() - started:.2f} s", flush=True)
    output.write_text(profiler.output_text(unicode=False, color=False))
    print(f"profile: {output}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--workdir", type=Path, help="keep the data here (default: a temporary dir)")
    p.add_argument("--output", type=Path, default=Path("profile_day.txt"))
    args = p.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ecommerce-profile-"))
    try:
        profile(build(work / f"scale-{args.scale}", args.scale), args.output.resolve())
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
