"""Run a real ``dagster dev`` (webserver + daemon) for a test, and always stop it.

It starts the server as ``make dev`` does: ``dg dev`` in the repository, with
``deploy/dagster.local.yaml`` copied into a fresh DAGSTER_HOME.

The process runs in its own session so that killing its process group also stops the
webserver, daemon and code-server children it spawns, even when the test fails. Entering
``dagster_dev`` again with the same ``tmp_path`` restarts it on the same DAGSTER_HOME and
ECOMMERCE_HOME (what the failure drills do after killing a process of the group).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO, free_port

# The instance file of the embedded default, copied to $DAGSTER_HOME/dagster.yaml.
LOCAL_INSTANCE = REPO / "deploy" / "dagster.local.yaml"


def dev_command(host: str, port: int) -> list[str]:
    """The command line `make dev` starts the server with (see the Makefile)."""
    dg = Path(sys.executable).with_name("dg")
    return [str(dg), "dev", "--host", host, "--port", str(port)]


@dataclass
class DagsterDev:
    url: str
    process: subprocess.Popen
    log_path: Path
    dagster_home: Path

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            payload = json.loads(resp.read())
        if payload.get("errors"):
            raise AssertionError(payload["errors"])
        return payload["data"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def processes(self) -> dict[int, str]:
        """pid -> command line of every live process in this ``dagster dev``'s group."""
        return group_processes(self.process.pid)

    def find(self, needle: str) -> list[int]:
        """Processes of the group whose command line contains ``needle``."""
        return [pid for pid, cmd in self.processes().items() if needle in cmd]

    def kill(self, pid: int, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal one process, only if it belongs to this ``dagster dev`` (never a stranger
        that reused a pid)."""
        if os.getpgid(pid) != self.process.pid:
            raise ProcessLookupError(f"pid {pid} is not in the dagster dev process group")
        os.kill(pid, sig)


def group_processes(pgid: int) -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            raw = (entry / "cmdline").read_bytes()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue  # exited meanwhile
        if raw:  # zombies have an empty command line
            found[int(entry.name)] = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


@contextlib.contextmanager
def dagster_dev(tmp_path: Path, env: dict[str, str] | None = None,
                startup_timeout_s: float = 180,
                log_name: str = "dagster_dev.log") -> Iterator[DagsterDev]:
    port = free_port()
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(LOCAL_INSTANCE, dagster_home / "dagster.yaml")  # as `make dev` does
    full_env = {**os.environ, "DAGSTER_HOME": str(dagster_home),
                "ECOMMERCE_HOME": str(tmp_path / "ecommerce"), **(env or {})}
    log_path = tmp_path / log_name
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            dev_command("127.0.0.1", port), cwd=REPO, env=full_env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
    dev = DagsterDev(url=f"http://127.0.0.1:{port}", process=proc, log_path=log_path,
                     dagster_home=dagster_home)
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"dagster dev exited early:\n{dev.log()[-3000:]}")
            try:
                urllib.request.urlopen(f"{dev.url}/server_info", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"dagster dev not up:\n{dev.log()[-3000:]}") from None
                time.sleep(0.5)
        yield dev
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """Stop ``dagster dev`` and everything in its process group, and wait until it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    # Children that outlived the parent (daemon, code server, run workers) share its process
    # group: kill them and wait until the group is empty.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.2)
