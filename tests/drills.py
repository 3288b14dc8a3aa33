"""Helpers of the failure drills (tests/test_drills.py): landing data, watching a running
``dagster dev`` through its Dagster instance, waiting for convergence, and the invariants
(exactly-once bronze, registry arithmetic, silver/gold equal to an uninterrupted reference).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ecommerce_assets.bronze.assets import INGESTED_OBJECTS
from ecommerce_assets.bronze.ingest import current_registry_sql
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from resources.object_store import LocalObjectStore
from tests.conftest import REPO
from tests.dagster_dev import DagsterDev

TODAY = dt.datetime.now(dt.UTC).date()
AS_OF = TODAY.isoformat()  # gold's reporting date, fixed for the drill and its reference
IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
               dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED,
               dg.DagsterRunStatus.CANCELING]
# Columns that legitimately differ between two loads of the same files.
VOLATILE = {"processed_at", "run_id", "quarantined_at", "refreshed_at", "silver_updated_at"}
_PID = re.compile(r"Started process for run \(pid: (\d+)\)")


def generate(src: Path, seed_day: dt.date, last_day: dt.date, *, scale: float = 0.005,
             rows: int = 60) -> None:
    """A seed on ``seed_day`` and dirty batches up to ``last_day``, written to the folder
    ``src`` (not an inbox) in the inbox layout."""
    env = {"ECOMMERCE_HOME": str(src.parent / "generator_home"), "PATH": ""}
    state = ["--state-dir", str(src.parent / "generator_state"), "--dest", str(src)]
    days = (last_day - seed_day).days
    commands = [["seed.py", "--scale", str(scale), "--date", seed_day.isoformat(), *state]]
    if days:
        commands.append(["generate.py", "--days", str(days), "--rows", str(rows),
                         "--date", last_day.isoformat(), *state])
    for args in commands:
        subprocess.run([sys.executable, f"test_data/thelook_ecommerce/{args[0]}", *args[1:]],
                       cwd=REPO, env=env, check=True, capture_output=True)


def files(folder: Path) -> dict[str, bytes]:
    """key -> content of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass
class Landing:
    """What a drill wrote to the inbox: the final content of every key, as it landed."""

    inbox: LocalObjectStore
    final: dict[str, bytes] = field(default_factory=dict)
    generation: dict[str, str] = field(default_factory=dict)

    def land(self, key: str, data: bytes) -> None:
        info = self.inbox.write_bytes(key, data)  # atomic: a reader never sees half a file
        self.final[key] = data
        self.generation[key] = info.generation

    def partitions(self) -> dict[tuple[str, str], dict[str, str]]:
        """(table, day) -> {key: generation} of the routable objects landed."""
        found: dict[tuple[str, str], dict[str, str]] = {}
        for key, generation in self.generation.items():
            table, folder, *_ = key.split("/")
            if table in BRONZE_TABLES and folder.startswith("date="):
                found.setdefault((table, folder[5:]), {})[key] = generation
        return found


def instance(dev: DagsterDev) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(str(dev.dagster_home))


def runs_in_progress(inst: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(inst.get_runs(dg.RunsFilter(statuses=IN_PROGRESS)))


def worker_pid(inst: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's worker process, from its "Started process for run" event."""
    for record in inst.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        if match := _PID.search(record.message or ""):
            return int(match.group(1))
    return None


def step_events(inst: dg.DagsterInstance, run_id: str,
                kind: dg.DagsterEventType) -> list[str]:
    return [r.step_key or "" for r in inst.all_logs(run_id, of_type=kind)]


def is_retry(run: dg.DagsterRun) -> bool:
    return "dagster/parent_run_id" in run.tags or "dagster/retry_number" in run.tags


def latest_materialization(inst: dg.DagsterInstance, key: dg.AssetKey,
                           partition: str | None = None) -> dg.EventLogRecord | None:
    records = inst.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition
                              else None), limit=1).records
    return records[0] if records else None


def newest_rows_brought(inst: dg.DagsterInstance, table: str) -> float:
    """When bronze ``table`` last materialized new row versions: a materialization whose run
    says it loaded none (automation ignores it, see ecommerce_assets/automation.py) is
    skipped."""
    from ecommerce_assets.automation import no_new_rows_tag

    records = inst.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(["bronze", table])), limit=200).records
    for record in records:  # newest first
        run = inst.get_run_by_id(record.run_id)
        if run is None or run.tags.get(no_new_rows_tag(table)) != "true":
            return record.timestamp
    return 0.0


def updated_at(inst: dg.DagsterInstance, key: dg.AssetKey) -> float:
    """When ``key`` last changed for automation: bronze when it brought rows, others when
    they materialized."""
    if key.path[0] == "bronze":
        return newest_rows_brought(inst, key.path[1])
    record = latest_materialization(inst, key)
    return record.timestamp if record is not None else 0.0


def upstream_of(keys: list[dg.AssetKey]) -> dict[dg.AssetKey, set[dg.AssetKey]]:
    from ecommerce_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    return {key: set(graph.get(key).parent_keys) for key in keys}


def downstream_keys() -> list[dg.AssetKey]:
    from ecommerce_assets.definitions import defs

    return [s.key for s in defs.resolve_all_asset_specs() if s.group_name in ("silver", "gold")]


def missing_work(inst: dg.DagsterInstance, landing: Landing,
                 downstream: list[dg.AssetKey]) -> list[str]:
    """What is not converged yet: runs in progress, landed object versions not ingested by
    the latest materialization of their partition, downstream assets older than their upstream."""
    missing = [f"run {r.run_id[:8]} {r.status.value}" for r in runs_in_progress(inst)]
    for (table, day), expected in landing.partitions().items():
        record = latest_materialization(inst, dg.AssetKey(["bronze", table]), day)
        if record is None:
            missing.append(f"bronze/{table} {day}: never materialized")
            continue
        entry = record.asset_materialization.metadata.get(INGESTED_OBJECTS)
        ingested = dict(entry.value) if entry is not None else {}
        missing += [f"{key} (generation {gen}) not ingested"
                    for key, gen in expected.items() if ingested.get(key) != gen]
    for key, parents in upstream_of(downstream).items():
        record = latest_materialization(inst, key)
        due = max([updated_at(inst, parent) for parent in parents], default=0.0)
        if record is None or record.timestamp < due:
            missing.append(f"{key.to_user_string()} older than its upstream")
    return missing


def wait_until_converged(dev: DagsterDev, landing: Landing, timeout_s: float,
                         on_poll: Callable[[], None] | None = None,
                         poll_s: float = 0.25) -> float:
    """Poll until nothing is missing twice in a row (3 s apart); returns seconds waited."""
    inst, downstream = instance(dev), downstream_keys()
    start = time.monotonic()
    last_check, quiet_since, missing = 0.0, None, ["not checked"]
    while True:
        if on_poll is not None:
            on_poll()
        now = time.monotonic()
        if now - last_check >= 1.5:
            last_check = now
            missing = missing_work(inst, landing, downstream)
            if missing:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= 3:
                return now - start
        if now - start > timeout_s:
            pytest.fail(f"not converged after {timeout_s:.0f} s: {missing[:15]}\n"
                        f"{dev.log()[-3000:]}")
        if dev.process.poll() is not None:
            pytest.fail(f"dagster dev exited:\n{dev.log()[-3000:]}")
        time.sleep(poll_s)


def run_summary(dev: DagsterDev) -> list[dict]:
    inst = instance(dev)
    return [{"run_id": r.run_id[:8], "status": r.status.value,
             "sensor": r.tags.get("dagster/sensor_name"),
             "partition": r.tags.get("dagster/partition"),
             "retry_of": (r.tags.get("dagster/parent_run_id") or "")[:8] or None}
            for r in inst.get_runs()]


def build_reference(home: Path, landing: Landing, days: list[dt.date]) -> Path:
    """The same final files loaded at once, in-process, in a fresh ECOMMERCE_HOME:
    every bronze day in one range run, then silver and gold. Returns its DuckDB file."""
    from ecommerce_assets.bronze.assets import bronze_assets
    from ecommerce_assets.gold.assets import gold_definitions
    from ecommerce_assets.silver.assets import silver_assets
    from resources.deployment import build_resources

    inbox = home / "buckets" / "inbox"
    for key, data in landing.final.items():
        if key.split("/")[0] in BRONZE_TABLES:  # unroutable objects never reach a table
            (inbox / key).parent.mkdir(parents=True, exist_ok=True)
            (inbox / key).write_bytes(data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOMMERCE_HOME", str(home))
        mp.setenv("ECOMMERCE_AS_OF", AS_OF)
        mp.delenv("ECOMMERCE_DEPLOYMENT", raising=False)
        resources = build_resources("local")
        with dg.instance_for_test() as inst:
            assert dg.materialize(bronze_assets, resources=resources, instance=inst, tags={
                "dagster/asset_partition_range_start": min(days).isoformat(),
                "dagster/asset_partition_range_end": max(days).isoformat()}).success
            assert dg.materialize(
                [*bronze_assets, *silver_assets, *gold_definitions],
                resources=resources, instance=inst,
                selection=dg.AssetSelection.groups("silver", "gold")).success
    return home / "warehouse.duckdb"


def _tables(con: duckdb.DuckDBPyConnection, db: str, schema: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = ? ORDER BY 1", [db, schema]).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = ? "
        "AND table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [db, schema, table]).fetchall()
    # Floating-point sums may differ in the last bits with the order rows were added in.
    return [f'round("{c}", 6) AS "{c}"' if t in ("DOUBLE", "FLOAT") else f'"{c}"'
            for c, t in rows if c not in VOLATILE]


def compare_layers(dev_db: Path, ref_db: Path,
                   schemas: tuple[str, ...] = ("bronze", "silver", "gold")) -> dict[str, int]:
    """Every table of ``schemas`` equal row for row (EXCEPT ALL both ways, volatile columns
    left out); returns rows per table. Fails with the differing counts otherwise."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{dev_db}' AS dev (READ_ONLY)")
    con.execute(f"ATTACH '{ref_db}' AS ref (READ_ONLY)")
    counts, diffs = {}, {}
    for schema in schemas:
        tables = _tables(con, "ref", schema)
        assert tables, f"no {schema} table in the reference"
        assert _tables(con, "dev", schema) == tables, schema
        for table in tables:
            cols = ", ".join(_columns(con, "ref", schema, table))
            a = f"SELECT {cols} FROM dev.{schema}.{table}"
            b = f"SELECT {cols} FROM ref.{schema}.{table}"
            only_dev = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
            only_ref = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
            counts[f"{schema}.{table}"] = con.execute(
                f"SELECT count(*) FROM dev.{schema}.{table}").fetchone()[0]
            if only_dev or only_ref:
                diffs[f"{schema}.{table}"] = (only_dev, only_ref)
    con.close()
    assert not diffs, f"(rows only in the drill, rows only in the reference): {diffs}"
    return counts


def check_exactly_once(db: Path, landing: Landing) -> dict[str, int]:
    """Bronze + quarantine = input rows per object, nothing doubled, every final object
    version in the registry's current rows once (the registry keeps every run's rows; the
    newest run of a day is its current state). Returns bronze rows per table."""
    con = duckdb.connect(str(db), read_only=True)
    q = con.execute
    current = current_registry_sql()
    bad = q(f"SELECT object_key, rows_read, rows_loaded, rows_quarantined FROM {current} AS c "
            "WHERE status = 'loaded' AND rows_read <> rows_loaded + rows_quarantined").fetchall()
    assert not bad, bad
    twice = q(f"SELECT object_key, count(*) FROM {current} AS c WHERE table_name IS NOT NULL "
              "GROUP BY 1 HAVING count(*) > 1").fetchall()
    assert not twice, twice
    rows = {}
    for name, table in BRONZE_TABLES.items():
        loaded, quarantined = q(
            "SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_quarantined), 0) "
            f"FROM {current} AS c WHERE table_name = ? AND status = 'loaded'",
            [name]).fetchone()
        rows[name] = q(f"SELECT count(*) FROM {table.warehouse_table}").fetchone()[0]
        assert rows[name] == loaded, (name, rows[name], loaded)
        in_quarantine = q("SELECT count(*) FROM ops.quarantine WHERE table_name = ?",
                          [name]).fetchone()[0]
        assert in_quarantine == quarantined, (name, in_quarantine, quarantined)
        doubled = q(f"SELECT count(*) FROM (SELECT source_object, source_line "
                    f"FROM {table.warehouse_table} GROUP BY ALL HAVING count(*) > 1)"
                    ).fetchone()[0]
        assert doubled == 0, (name, doubled)
    registry = {k: (s, m) for k, s, m in q(
        f"SELECT object_key, status, md5 FROM {current} AS c WHERE table_name IS NOT NULL"
    ).fetchall()}
    for key, data in landing.final.items():
        if key.split("/")[0] not in BRONZE_TABLES:
            continue
        assert key in registry, f"{key} not in the file registry"
        status, md5 = registry[key]
        if status == "loaded":  # the final version is the one loaded
            assert md5 == hashlib.md5(data, usedforsecurity=False).hexdigest(), key
    con.close()
    return rows


def copy_tree(src: Path, dest: Path) -> None:
    shutil.copytree(src, dest, dirs_exist_ok=True)


# Environment of the drills' dagster dev: fast ticks, a short settle, discovery every tick.
ENV = {"ECOMMERCE_SENSOR_INTERVAL_S": "1", "ECOMMERCE_INBOX_SETTLE_S": "1",
       "ECOMMERCE_SENSOR_DISCOVERY_S": "0", "ECOMMERCE_AS_OF": AS_OF}


def landing_in(tmp_path: Path) -> Landing:
    """The inbox of the drill's ``dagster dev`` (ECOMMERCE_HOME = tmp_path/ecommerce)."""
    return Landing(LocalObjectStore(root=str(tmp_path / "ecommerce" / "buckets" / "inbox")))


def report(name: str, **figures) -> None:
    """One ``DRILL name: {...}`` line of figures for the closing note (pytest -s)."""
    print(f"\nDRILL {name}: {json.dumps(figures, default=str)}")


def is_bronze(run: dg.DagsterRun) -> bool:
    return run.job_name == "bronze_ingest"
