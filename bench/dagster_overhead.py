"""What Dagster itself costs inside the steps of a small landing, without the project's code.

    python bench/dagster_overhead.py [--assets 7] [--checks 2] [--repeat 3]

Materializes ``--assets`` assets that do nothing but report a materialization and
``--checks`` passing check results each, two ways, on a throwaway instance (SQLite storage,
as ``dagster dev`` and the local deployment use): one asset per step (as the project's
layers are built) and one multi-asset step holding all of them. Run on disk (beside this
repository) and on tmpfs (``/dev/shm``), so the share of each event's fsync shows. Prints
the step time of each run (the sum of its step durations, as ``make bench`` counts it).

What it shows: the step time is the events (a materialization and each check evaluation is
written to the event log, each write a SQLite transaction), not the number of steps.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import dagster as dg

REPO = Path(__file__).resolve().parents[1]


def definitions(assets: int, checks: int) -> tuple[list, list]:
    names = [f"c{i}" for i in range(checks)]

    def single(i: int) -> dg.AssetsDefinition:
        key = dg.AssetKey(["single", f"t{i}"])

        @dg.asset(key=key, check_specs=[dg.AssetCheckSpec(n, asset=key) for n in names],
                  pool="warehouse")
        def _asset() -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"rows": 1}, check_results=[
                dg.AssetCheckResult(check_name=n, passed=True) for n in names])
        return _asset

    specs = [dg.AssetSpec(dg.AssetKey(["multi", f"t{i}"])) for i in range(assets)]

    @dg.multi_asset(specs=specs, check_specs=[dg.AssetCheckSpec(n, asset=s.key)
                                              for s in specs for n in names],
                    can_subset=True, pool="warehouse")
    def multi() -> object:
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key, metadata={"rows": 1}, check_results=[
                dg.AssetCheckResult(asset_key=spec.key, check_name=n, passed=True)
                for n in names])

    return [single(i) for i in range(assets)], [multi]


def measure(where: Path, assets: int, checks: int, repeat: int) -> dict[str, float]:
    singles, multi = definitions(assets, checks)
    out: dict[str, list[float]] = {"one step per asset": [], "one step for all": []}
    with tempfile.TemporaryDirectory(dir=where) as home:
        Path(home, "dagster.yaml").write_text(
            "telemetry:\n  enabled: false\nconcurrency:\n  pools:\n    default_limit: 1\n")
        os.environ["DAGSTER_HOME"] = home
        instance = dg.DagsterInstance.get()
        for _ in range(repeat):
            for name, defs in (("one step per asset", singles), ("one step for all", multi)):
                result = dg.materialize(defs, instance=instance)
                stats = instance.get_run_step_stats(result.run_id)
                out[name].append(sum(s.end_time - s.start_time for s in stats))
    return {name: statistics.median(values) for name, values in out.items()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--assets", type=int, default=7)
    p.add_argument("--checks", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    import logging

    logging.getLogger("dagster").setLevel(logging.WARNING)
    events = args.assets * (1 + args.checks)
    print(f"{args.assets} assets x (1 materialization + {args.checks} checks) = {events} "
          f"events; median of {args.repeat} runs, step time")
    for label, where in (("disk", REPO), ("tmpfs", Path("/dev/shm"))):
        if not where.is_dir():
            continue
        started = time.perf_counter()
        figures = measure(where, args.assets, args.checks, args.repeat)
        print(f"{label}: " + ", ".join(f"{name} {s:.3f} s ({s / events * 1000:.1f} ms/event)"
                                       for name, s in figures.items())
              + f"  [{time.perf_counter() - started:.0f} s]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
