"""Runs whose worker process is gone are failed, so that retries and the inbox sensor move on.

On the embedded default, runs execute as child processes of the local code server. When the
whole ``dagster dev`` dies while a run is in progress (a crash, a reboot, a SIGKILL), nothing
is left to mark that run finished: it stays STARTED for ever, keeps its step's slot in the
``warehouse`` pool (whose limit is 1: nothing would ever write again) and keeps its landing
day "in progress" for the inbox sensor. Dagster's run monitoring cannot health-check the
default launcher's workers, so this sensor does: a STARTING or STARTED run whose worker
process no longer exists on this machine, or whose pid now belongs to a process started
after it (pid reuse), is reported failed. The daemon then retries
it (``run_retries``) and frees its pool slot (``run_monitoring``).

It acts only on the embedded default (``ECOMMERCE_DEPLOYMENT=local`` with the default run
launcher), where the daemon and the run workers share one machine.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import dagster as dg
from dagster._core.launcher import DefaultRunLauncher

from resources import settings

CHECK_INTERVAL_S = 30
_STARTED_PROCESS = re.compile(r"Started process for run \(pid: (\d+)\)")


def process_started_by(pid: int, moment: float) -> bool:
    """True if process ``pid`` exists and was started no later than ``moment`` (epoch s)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(float(line.split()[1]) for line in
                    Path("/proc/stat").read_text().splitlines() if line.startswith("btime"))
    except FileNotFoundError:  # no such process (or no /proc: see below)
        if Path("/proc/self/stat").exists():
            return False
        try:  # not Linux: existence only
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22: start time after boot
    started = boot + ticks / os.sysconf("SC_CLK_TCK")
    return started <= moment + 1.0  # btime and ticks are coarse: a second of slack


def worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> tuple[int, float] | None:
    """(pid, since) of the run's worker: the process the code server started for it (logged
    as "Started process for run (pid: N)"), else the process that logged RUN_START (a run
    executed in the calling process, as by the CLI); None while there is none."""
    for record in reversed(instance.all_logs(run.run_id,
                                             of_type=dg.DagsterEventType.ENGINE_EVENT)):
        if match := _STARTED_PROCESS.search(record.message or ""):
            return int(match.group(1)), record.timestamp
    starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_START)
    if starts and starts[-1].dagster_event is not None and starts[-1].dagster_event.pid:
        return starts[-1].dagster_event.pid, starts[-1].timestamp
    return None


def orphaned_runs(instance: dg.DagsterInstance) -> list[tuple[dg.DagsterRun, str]]:
    """STARTING or STARTED runs whose worker process is gone, each with the reason. (A run
    STARTING with no worker yet is left to run monitoring's start timeout.)"""
    found = []
    for record in instance.get_run_records(dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        found_worker = worker(instance, run)
        if found_worker is None:
            continue
        pid, since = found_worker
        if not process_started_by(pid, since):
            found.append((run, f"its worker process (pid {pid}) is gone: the run was "
                               "orphaned (dagster dev stopped or the machine restarted "
                               "while it ran)"))
    return found


@dg.sensor(
    name="orphaned_runs",
    minimum_interval_seconds=CHECK_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Fails runs left STARTED by a worker process that no longer exists (the "
                "embedded default), so they are retried and free the warehouse pool.",
)
def orphaned_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    instance = context.instance
    if settings.deployment() != "local" or \
            not isinstance(instance.run_launcher, DefaultRunLauncher):
        return dg.SkipReason("only on the embedded default (local deployment, default "
                             "run launcher)")
    orphans = orphaned_runs(instance)
    for run, reason in orphans:
        context.log.warning(f"run {run.run_id} ({run.job_name}): {reason}; marking it failed")
        instance.report_run_failed(run, f"Marked failed by the orphaned_runs sensor: {reason}")
    return dg.SkipReason(f"{len(orphans)} orphaned runs marked failed")
