"""``ecommerce backfill``: submit a partition backfill to a running Dagster webserver.

It goes through the webserver's GraphQL API, exactly like the UI's "Materialize selected"
→ partition range, so the backfill shows on the UI's Backfills page and the daemon runs it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on PartitionSetNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}
"""
STATUS = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  __typename ... on PartitionBackfill { status numPartitions } ... on PythonError { message }
} }
"""
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
DEFAULT_URL = "http://127.0.0.1:3000"
URL_FILE = "webserver.url"  # written by `make dev` into ECOMMERCE_HOME
# Dagster refuses these characters in a backfill title (INVALID_TITLE_CHARACTERS_REGEX in
# dagster._core.definitions.utils), and titles longer than 100 characters.
INVALID_TITLE_CHARS = re.compile(r'[%*"]')
MAX_TITLE_LENGTH = 100


class BackfillError(Exception):
    """A backfill that could not be submitted, said in one sentence."""


def webserver_url(env: Mapping[str, str] | None = None) -> str:
    """Where the webserver is: DAGSTER_WEBSERVER_URL, else the PORT (and HOST) that
    `make dev` takes, else the URL `make dev` wrote into ECOMMERCE_HOME, else port 3000."""
    env = os.environ if env is None else env
    if env.get("DAGSTER_WEBSERVER_URL"):
        return env["DAGSTER_WEBSERVER_URL"].rstrip("/")
    if env.get("PORT"):
        return f"http://{_client_host(env.get('HOST', ''))}:{int(env['PORT'])}"
    written = Path(env.get("ECOMMERCE_HOME") or ".ecommerce") / URL_FILE
    if written.is_file() and written.read_text().strip():
        return written.read_text().strip().rstrip("/")
    return DEFAULT_URL


def _client_host(host: str) -> str:
    """The address to connect to for a server bound to ``host``. Only an IP address counts:
    zsh sets HOST to the machine's name, which is not what `make dev` binds to."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "127.0.0.1"
    return "127.0.0.1" if address.is_unspecified else host


def backfill_title(selection: str, start: str, end: str) -> str:
    """A title Dagster accepts: the selection and range, without ``% * "``, ≤ 100 chars."""
    title = " ".join(INVALID_TITLE_CHARS.sub("", f"{selection} {start}...{end}").split())
    if len(title) <= MAX_TITLE_LENGTH:
        return title
    tail = f" {start}...{end}"
    return title[: MAX_TITLE_LENGTH - len(tail) - 1].rstrip() + "…" + tail


def partition_keys(start: str, end: str) -> list[str]:
    """The daily partition keys from start to end, inclusive (validated dates)."""
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError as exc:
        raise BackfillError(f"{exc}: give the range as YYYY-MM-DD YYYY-MM-DD") from None
    if last < first:
        raise BackfillError(f"the range {start}...{end} ends before it starts")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def asset_keys(selection: str) -> list[list[str]]:
    """Asset key paths of a selection: Dagster's selection syntax (``group:bronze``,
    ``key:"bronze/orders"``, ``bronze/orders``, ``… or …``) or, as ``dagster asset
    materialize --select`` takes them, comma-separated keys (``bronze/orders,bronze/users``).
    Only daily-partitioned assets can be backfilled by partition."""
    import dagster as dg
    from dagster._core.definitions.asset_selection import DagsterInvalidAssetSelectionError

    from ecommerce_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    try:
        keys = dg.AssetSelection.from_string(selection).resolve(graph)
    except DagsterInvalidAssetSelectionError:
        listed = [dg.AssetKey.from_user_string(k.strip().strip('"')) for k in selection.split(",")
                  if k.strip()]
        unknown = [k.to_user_string() for k in listed if not graph.has(k)]
        if not listed or unknown:
            raise BackfillError(f"the selection {selection!r} is neither Dagster selection "
                                "syntax (group:bronze, key:\"bronze/orders\") nor a list of "
                                f"asset keys{f' (unknown: {unknown})' if unknown else ''}"
                                ) from None
        keys = set(listed)
    if not keys:
        raise BackfillError(f"the selection {selection!r} matches no asset")
    unpartitioned = sorted(k.to_user_string() for k in keys if not graph.get(k).is_partitioned)
    if unpartitioned:
        raise BackfillError(f"{', '.join(unpartitioned)} {'is' if len(unpartitioned) == 1 else 'are'}"
                            " not partitioned: a backfill takes the daily-partitioned bronze "
                            "assets (automation then refreshes silver and gold)")
    return sorted(k.path for k in keys)


def graphql(url: str, query: str, variables: dict) -> dict:
    """POST one GraphQL request; the server's own error message becomes a BackfillError."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"{url.rstrip('/')}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:  # the reason is in the body, not in "HTTP Error 500"
        payload = _json(exc.read())
        if not payload.get("data") and not payload.get("errors"):
            raise BackfillError(f"the webserver at {url} answered HTTP {exc.code} "
                                f"{exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise BackfillError(f"no Dagster webserver answers at {url} ({reason}); start it with "
                            "`make dev`, or pass --url or set DAGSTER_WEBSERVER_URL") from None
    if payload.get("errors"):
        raise BackfillError(f"the webserver at {url} refused it: "
                            f"{_first_line(payload['errors'][0].get('message', ''))}")
    return payload["data"]


def _json(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _first_line(message: str) -> str:
    """The first line of a server message, without the Python exception's class name."""
    line = message.strip().splitlines()[0] if message.strip() else "(no message)"
    return re.sub(r"^(?:[\w.]+\.)?\w+(?:Error|Exception|Violation): ", "", line)


def launch(url: str, keys: list[list[str]], partitions: list[str], title: str) -> str:
    params = {"assetSelection": [{"path": p} for p in keys], "partitionNames": partitions,
              "title": title}
    result = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise BackfillError(f"the webserver at {url} refused the backfill: "
                            f"{_first_line(result.get('message') or result['__typename'])}")
    return result["backfillId"]


def submit_backfill(url: str, selection: str, start: str, end: str) -> str:
    """Submit the backfill of ``selection`` over the days start..end; its id."""
    partitions = partition_keys(start, end)
    return launch(url, asset_keys(selection), partitions, backfill_title(selection, start, end))


def wait_for(url: str, backfill_id: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        status = graphql(url, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if status.get("status") in DONE or time.monotonic() > deadline:
            return status.get("status") or status.get("message", "unknown")
        time.sleep(2)
