"""The production Dagster instance (``deploy/dagster.prod.yaml``): run, event-log and
schedule storage on a real PostgreSQL server, exercised by ``dagster dev`` through a
sensor-launched bronze run.

PostgreSQL is Debian's ``postgresql`` package (``.ci/run`` installs it when missing):
``initdb`` into a temporary folder, a free loopback port, stopped afterwards whatever
happens. As root, the server runs as the ``postgres`` user (it refuses to run as root).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port
from tests.dagster_dev import DagsterDev, stop

TODAY = dt.datetime.now(dt.UTC).date()
RUNS = """
{ runsOrError(limit: 50) { ... on Runs { results {
    runId status tags { key value } } } } }
"""


def pg_bin(name: str) -> str:
    found = shutil.which(name) or next(
        (str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is missing: apt-get install postgresql")
    return found


def as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def postgres_server() -> Iterator[dict[str, str]]:
    """A fresh PostgreSQL cluster on a free port; yields the DAGSTER_PG_* settings."""
    # Not under pytest's tmp_path: its parents are private to root, and as root the server
    # runs as the postgres user, which must reach its data folder.
    with tempfile.TemporaryDirectory(prefix="ecommerce-pg-") as tmp:
        yield from _postgres_server(Path(tmp))


def _postgres_server(root: Path) -> Iterator[dict[str, str]]:
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(as_server_user([pg_bin("initdb"), "-D", str(data), "-U", "dagster",
                                   "--auth=trust", "-E", "UTF8"]),
                   check=True, capture_output=True)
    log = root / "server.log"
    subprocess.run(as_server_user([
        pg_bin("pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60", "start", "-o",
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"]),
        check=True, capture_output=True)
    try:
        subprocess.run([pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                        "dagster", "dagster"], check=True, capture_output=True)
        yield {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port),
               "DAGSTER_PG_DB": "dagster", "DAGSTER_PG_USER": "dagster",
               "DAGSTER_PG_PASSWORD": ""}
    finally:
        subprocess.run(as_server_user([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate",
                                       "-w", "stop"]), capture_output=True)


def psql(pg: dict[str, str], sql: str) -> str:
    return subprocess.run(
        [pg_bin("psql"), "-h", pg["DAGSTER_PG_HOST"], "-p", pg["DAGSTER_PG_PORT"], "-U",
         pg["DAGSTER_PG_USER"], "-d", pg["DAGSTER_PG_DB"], "-At", "-c", sql],
        check=True, capture_output=True, text=True).stdout.strip()


@contextlib.contextmanager
def dagster_dev_prod(tmp_path: Path, env: dict[str, str]) -> Iterator[DagsterDev]:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.prod.yaml", dagster_home / "dagster.yaml")
    port = free_port()
    log_path = tmp_path / "dagster_dev.log"
    full_env = {**os.environ, "DAGSTER_HOME": str(dagster_home), **env}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster")), "dev", "-h", "127.0.0.1", "-p",
             str(port), "-w", "workspace.yaml"], cwd=REPO, env=full_env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    dev = DagsterDev(url=f"http://127.0.0.1:{port}", process=proc, log_path=log_path,
                     dagster_home=dagster_home)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dagster dev exited early:\n{dev.log()[-3000:]}")
            try:
                urllib.request.urlopen(f"{dev.url}/server_info", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, dev.log()[-3000:]
                time.sleep(0.5)
        yield dev
    finally:
        stop(proc)


@pytest.mark.slow
def test_dagster_dev_on_postgresql_runs_a_sensor_launched_bronze_run(tmp_path: Path) -> None:
    home = tmp_path / "ecommerce"
    env = {"ECOMMERCE_HOME": str(home), "ECOMMERCE_DEPLOYMENT": "local",
           "ECOMMERCE_SENSOR_INTERVAL_S": "2", "ECOMMERCE_INBOX_SETTLE_S": "0"}
    subprocess.run([sys.executable, "test_data/thelook_ecommerce/seed.py", "--scale", "0.001",
                    "--date", TODAY.isoformat()], cwd=REPO, env={**env, "PATH": ""},
                   check=True, capture_output=True)
    with postgres_server() as pg, dagster_dev_prod(tmp_path, {**env, **pg}) as dev:
        deadline = time.monotonic() + 300
        while True:
            runs = dev.graphql(RUNS)["runsOrError"]["results"]
            bronze = [r for r in runs if {"key": "ecommerce/trigger", "value": "inbox"}
                      in r["tags"]]
            if bronze and bronze[-1]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            assert time.monotonic() < deadline, (runs, dev.log()[-3000:])
            time.sleep(2)
        run = bronze[-1]
        assert run["status"] == "SUCCESS", dev.log()[-3000:]
        # The run, its events and the sensor's ticks are in PostgreSQL.
        assert psql(pg, f"SELECT status FROM runs WHERE run_id = '{run['runId']}'") == "SUCCESS"
        assert int(psql(pg, f"SELECT COUNT(*) FROM event_logs WHERE run_id = "
                            f"'{run['runId']}'")) > 10
        assert int(psql(pg, "SELECT COUNT(*) FROM job_ticks")) >= 1
        assert not (dev.dagster_home / "history").exists()  # nothing in local SQLite files
