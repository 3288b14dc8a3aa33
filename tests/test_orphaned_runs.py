"""The orphaned_runs sensor: a STARTED run whose worker process is gone is failed.

The worker is a real process: a child Python process logs the run's RUN_START event with its
pid (as a run worker does) in a real DAGSTER_HOME, then exits, as a run worker killed with its
``dagster dev`` would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.utils import make_new_run_id

from sensors.orphaned_runs import orphaned_runs_sensor, process_started_by
from tests.conftest import REPO

START_IN_CHILD = """
import os, sys
import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType
with dg.DagsterInstance.get() as instance:
    run = instance.get_run_by_id(sys.argv[1])
    instance.report_dagster_event(DagsterEvent(DagsterEventType.RUN_START.value,
                                               job_name=run.job_name, pid=os.getpid()),
                                  run_id=run.run_id)
"""


def _started_run(instance: dg.DagsterInstance, home: Path, in_child: bool) -> str:
    run_id = make_new_run_id()
    instance.add_run(dg.DagsterRun(job_name="bronze_ingest", run_id=run_id,
                                   status=dg.DagsterRunStatus.STARTING))
    if in_child:
        subprocess.run([sys.executable, "-c", START_IN_CHILD, run_id], check=True,
                       env={**os.environ, "DAGSTER_HOME": str(home)})
    else:
        instance.report_dagster_event(DagsterEvent(DagsterEventType.RUN_START.value,
                                                   job_name="bronze_ingest", pid=os.getpid()),
                                      run_id=run_id)
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
    return run_id


def test_a_run_whose_worker_is_gone_is_failed(tmp_path: Path, ecommerce_home: Path,
                                              monkeypatch) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        orphan = _started_run(instance, home, in_child=True)  # its process has exited
        alive = _started_run(instance, home, in_child=False)  # this test is its worker
        # Launched by the code server, killed before it logged RUN_START.
        starting = make_new_run_id()
        instance.add_run(dg.DagsterRun(job_name="bronze_ingest", run_id=starting,
                                       status=dg.DagsterRunStatus.STARTING))
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        instance.report_engine_event(f"Started process for run (pid: {child.pid}).",
                                     instance.get_run_by_id(starting))
        child.wait()
        not_yet = make_new_run_id()  # STARTING, no worker yet: run monitoring's business
        instance.add_run(dg.DagsterRun(job_name="bronze_ingest", run_id=not_yet,
                                       status=dg.DagsterRunStatus.STARTING))
        result = orphaned_runs_sensor(dg.build_sensor_context(instance=instance))
        assert "2 orphaned runs" in result.skip_message
        assert instance.get_run_by_id(orphan).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(starting).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(not_yet).status == dg.DagsterRunStatus.STARTING
        failure = instance.all_logs(orphan, of_type=DagsterEventType.RUN_FAILURE)
        assert "is gone" in failure[0].message


def test_a_reused_pid_is_not_the_worker() -> None:
    now = time.time()
    assert process_started_by(os.getpid(), now)
    assert not process_started_by(os.getpid(), now - 3600)  # started after that moment
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not process_started_by(child.pid, now)
