"""Restart drills on a real ``dagster dev`` (issue 16). The daemon, or the whole
``dagster dev`` with a run in progress, is SIGKILLed, then started again on the same
DAGSTER_HOME and ECOMMERCE_HOME; with no hand edit the state converges, checked as in
tests/test_drills.py (exactly once, and equal row for row to the same files loaded at once).
Figures are printed for the issue's closing note (``-s``).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import InstigatorType, TickStatus

from tests.dagster_dev import dagster_dev
from tests.drills import (
    ENV,
    TODAY,
    build_reference,
    check_exactly_once,
    compare_layers,
    files,
    generate,
    instance,
    is_bronze,
    landing_in,
    report,
    run_summary,
    runs_in_progress,
    step_events,
    wait_until_converged,
)

# --- drill 2: SIGKILL of the daemon during a sensor tick --------------------------------


def _inbox_ticks(inst: dg.DagsterInstance) -> list:
    for state in inst.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name == "inbox_sensor":
            return list(inst.get_ticks(state.instigator_origin_id, state.selector_id, limit=1))
    return []


def _inbox_tick_in_progress(inst: dg.DagsterInstance) -> bool:
    ticks = _inbox_ticks(inst)
    return bool(ticks) and ticks[0].status == TickStatus.STARTED


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_sigkill_of_the_daemon_during_a_tick_then_restart_converges(tmp_path: Path) -> None:
    started = time.monotonic()
    days = [TODAY - dt.timedelta(days=1), TODAY]
    generate(tmp_path / "src", days[0], days[-1])
    source = files(tmp_path / "src")
    landing = landing_in(tmp_path)
    with dagster_dev(tmp_path, env=ENV) as dev:
        daemons = dev.find("-m dagster._daemon run")
        assert len(daemons) == 1, dev.processes()
        inst = instance(dev)
        deadline = time.monotonic() + 120
        while not _inbox_ticks(inst):  # the sensor ticks: the code location is loaded
            assert time.monotonic() < deadline, dev.log()[-3000:]
            time.sleep(0.2)
        # Files keep landing, one every 0.3 s, while the sensor ticks.
        lander = threading.Thread(target=lambda: [
            (landing.land(k, v), time.sleep(0.3)) for k, v in source.items()])
        lander.start()
        while not (landing.final and _inbox_tick_in_progress(inst)):
            assert time.monotonic() < deadline, dev.log()[-3000:]
            time.sleep(0.02)
        landed_at_kill = len(landing.final)
        dev.kill(daemons[0])
        in_flight = [r.run_id[:8] for r in runs_in_progress(inst)]
        lander.join()
        # dagster dev stops everything when its daemon dies; give it the time to notice.
        try:
            dev.process.wait(timeout=30)
            dev_exited = True
        except Exception:
            dev_exited = False
    with dagster_dev(tmp_path, env=ENV, log_name="dagster_dev_restart.log") as dev:
        waited = wait_until_converged(dev, landing, 200)
        runs = run_summary(dev)
    rows = check_exactly_once(tmp_path / "ecommerce" / "warehouse.duckdb", landing)
    ref = build_reference(tmp_path / "reference", landing, days)
    counts = compare_layers(tmp_path / "ecommerce" / "warehouse.duckdb", ref)
    report("sigkill-daemon", wall_s=round(time.monotonic() - started),
            objects_landed_at_kill=f"{landed_at_kill}/{len(source)}",
            runs_in_progress_at_kill=in_flight, dev_exited_on_daemon_death=dev_exited,
            converged_after_restart_s=round(waited), runs=len(runs),
            statuses=sorted(r["status"] for r in runs), bronze_rows=rows,
            tables_compared=len(counts))


# --- drill 2b: the whole dagster dev dies while a run works ------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_dagster_dev_killed_during_a_run_then_restart_converges(tmp_path: Path) -> None:
    """A crash or a reboot while a bronze run works: its worker dies with ``dagster dev``,
    and the run is left STARTED in storage, holding its warehouse pool slot and its landing
    day. After the restart the orphaned_runs sensor fails it, it is retried (or requested
    again by the inbox sensor), and the state converges."""
    started = time.monotonic()
    days = [TODAY - dt.timedelta(days=1), TODAY]
    generate(tmp_path / "src", days[0], days[-1])
    landing = landing_in(tmp_path)
    with dagster_dev(tmp_path, env=ENV) as dev:
        inst = instance(dev)
        for key, data in files(tmp_path / "src").items():
            landing.land(key, data)
        deadline = time.monotonic() + 150
        while not (working := [r for r in runs_in_progress(inst)
                               if r.status == dg.DagsterRunStatus.STARTED and is_bronze(r)
                               and step_events(inst, r.run_id, dg.DagsterEventType.STEP_START)]):
            assert time.monotonic() < deadline, dev.log()[-3000:]
            time.sleep(0.05)
        orphan = working[0].run_id
        os.killpg(dev.process.pid, signal.SIGKILL)  # everything at once, no shutdown
        dev.process.wait(timeout=30)
    with dg.DagsterInstance.from_config(str(dev.dagster_home)) as inst:
        left = inst.get_run_by_id(orphan).status
    assert left == dg.DagsterRunStatus.STARTED  # nothing was left to mark it finished
    with dagster_dev(tmp_path, env=ENV, log_name="dagster_dev_restart.log") as dev:
        waited = wait_until_converged(dev, landing, 200)
        runs = run_summary(dev)
        inst = instance(dev)
        failure = inst.all_logs(orphan, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure and "orphaned_runs" in failure[0].message
    rows = check_exactly_once(tmp_path / "ecommerce" / "warehouse.duckdb", landing)
    ref = build_reference(tmp_path / "reference", landing, days)
    counts = compare_layers(tmp_path / "ecommerce" / "warehouse.duckdb", ref)
    report("sigkill-dagster-dev-mid-run", wall_s=round(time.monotonic() - started),
            orphaned_run=orphan[:8], converged_after_restart_s=round(waited), runs=len(runs),
            statuses=sorted(r["status"] for r in runs), bronze_rows=rows,
            tables_compared=len(counts))


