"""The ``ecommerce`` command.

``ecommerce backfill``: submit a partition backfill to a running Dagster (its daemon runs it).
``ecommerce similar-products`` / ``search-products`` / ``lookalike-customers``: vector search
over the embedding tables of the configured warehouse (see the README, "Embeddings").

    ecommerce backfill 2026-11-01 2026-11-24                    # every bronze asset
    ecommerce backfill 2026-11-20 2026-11-24 --select 'key:"bronze/orders"' --wait

It goes through the webserver's GraphQL API, exactly like the UI's "Materialize selected"
→ partition range, so the backfill shows on the UI's Backfills page. Assets with the
single-run backfill policy (bronze) are processed as one run per asset for the range.
For a run in this process instead, without a daemon, use
``dagster asset materialize -m ecommerce_assets.definitions --select … --partition-range A...B``.

``ecommerce query "SQL" [--json]``: one BigQuery-dialect SELECT (``{bronze}``, ``{silver}``,
``{gold}``, ``{ops}`` placeholders) on the configured warehouse (``ECOMMERCE_DEPLOYMENT``).

    ecommerce query "SELECT status, COUNT(*) AS n FROM {silver}.orders GROUP BY status"

``ecommerce emulators --env-file PATH``: fake-gcs-server and the BigQuery emulator on free
loopback ports until interrupted; PATH gets the settings that point the gcp deployment at
them (``set -a; . PATH; set +a``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
import urllib.request
from collections.abc import Sequence

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


def graphql(url: str, query: str, variables: dict) -> dict:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"{url.rstrip('/')}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        payload = json.loads(response.read())
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    return payload["data"]


def partition_keys(start: str, end: str) -> list[str]:
    """The daily partition keys from start to end, inclusive (validated dates)."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    if last < first:
        raise ValueError(f"the range {start}...{end} ends before it starts")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def asset_keys(selection: str) -> list[list[str]]:
    """Asset key paths of a Dagster selection string (e.g. ``group:bronze``)."""
    import dagster as dg

    from ecommerce_assets.definitions import defs

    keys = dg.AssetSelection.from_string(selection).resolve(defs.resolve_asset_graph())
    if not keys:
        raise ValueError(f"the selection {selection!r} matches no asset")
    return sorted(k.path for k in keys)


def submit_backfill(url: str, selection: str, start: str, end: str) -> str:
    params = {"assetSelection": [{"path": p} for p in asset_keys(selection)],
              "partitionNames": partition_keys(start, end),
              "title": f"{selection} {start}...{end}"}
    result = graphql(url, LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(f"{result['__typename']}: {result.get('message')}")
    return result["backfillId"]


def wait_for(url: str, backfill_id: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        status = graphql(url, STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        if status.get("status") in DONE or time.monotonic() > deadline:
            return status.get("status") or status.get("message", "unknown")
        time.sleep(2)


def run_query(sql: str) -> list[dict]:
    """Rows of one SELECT (BigQuery SQL, placeholders rendered) on the configured warehouse."""
    from ecommerce_assets.sqltables import render
    from resources.deployment import build_resources

    statement = render(sql).strip().rstrip(";").strip()
    if not re.match(r"^(SELECT|WITH)\b", statement, re.IGNORECASE) or ";" in statement:
        raise ValueError("only one SELECT (or WITH … SELECT) statement is accepted")
    warehouse = build_resources()["warehouse"]
    return warehouse.query_arrow(warehouse.transpile(statement)).to_pylist()


def format_table(rows: list[dict]) -> str:
    """Rows as an aligned text table (columns of the first row)."""
    if not rows:
        return "(0 rows)"
    columns = list(rows[0])
    cells = [[("NULL" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True))  # noqa: E731
    out = [line(columns), line(["-" * w for w in widths]), *(line(row) for row in cells)]
    return "\n".join(s.rstrip() for s in out) + f"\n({len(rows)} rows)"


def query_command(args: argparse.Namespace) -> int:
    try:
        rows = run_query(args.sql)
    except Exception as exc:  # a bad query or setting is one line, not a traceback
        print(f"ecommerce query: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(rows, default=str))
    else:
        print(format_table(rows))
    return 0


def emulators_command(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from ecommerce_assets.emulators import serve

    try:
        with tempfile.TemporaryDirectory(prefix="ecommerce-emulators-") as workdir:
            return serve(Path(args.env_file), Path(workdir))
    except RuntimeError as exc:
        print(f"ecommerce emulators: {exc}", file=sys.stderr)
        return 2


def add_search_commands(commands: argparse._SubParsersAction) -> None:
    specs = [("similar-products", "product_id", "products most similar to a product"),
             ("search-products", "text", "products matching a free-text description"),
             ("lookalike-customers", "user_id", "customers who behave most like a customer")]
    for name, argument, summary in specs:
        command = commands.add_parser(name, help=summary, description=summary)
        if argument == "text":
            command.add_argument(argument, help="what to look for, in words")
        else:
            command.add_argument(argument, type=int, help=f"the {argument}")
        command.add_argument("-k", type=int, default=10, help="how many results (default 10)")
        command.add_argument("--json", action="store_true",
                             help="print a JSON array instead of a table")
        command.set_defaults(run=run_search)


def run_search(args: argparse.Namespace) -> int:
    from ecommerce_assets.embeddings import cli_search

    return cli_search.run(args.command, args, sys.stdout, sys.stderr)


def backfill_command(args: argparse.Namespace) -> int:
    try:
        backfill_id = submit_backfill(args.url, args.select, args.start, args.end)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"ecommerce backfill: {exc}", file=sys.stderr)
        return 2
    print(f"backfill {backfill_id} submitted: {args.url}/overview/backfills/{backfill_id}")
    if not args.wait:
        return 0
    status = wait_for(args.url, backfill_id, args.timeout)
    print(f"backfill {backfill_id}: {status}")
    return 0 if status in ("COMPLETED", "COMPLETED_SUCCESS") else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecommerce", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    add_search_commands(commands)
    backfill = commands.add_parser("backfill", help="backfill a range of daily partitions")
    backfill.add_argument("start", help="first landing day, YYYY-MM-DD")
    backfill.add_argument("end", help="last landing day, YYYY-MM-DD (inclusive)")
    backfill.add_argument("--select", default="group:bronze",
                          help="Dagster asset selection (default: group:bronze)")
    backfill.add_argument("--url", default="http://127.0.0.1:3000",
                          help="the Dagster webserver (default: http://127.0.0.1:3000)")
    backfill.add_argument("--wait", action="store_true", help="wait until it finishes")
    backfill.add_argument("--timeout", type=float, default=3600, help="seconds to wait")
    backfill.set_defaults(run=backfill_command)
    query = commands.add_parser("query", help="run one SELECT on the configured warehouse")
    query.add_argument("sql", help="BigQuery SQL; {bronze} {silver} {gold} {ops} placeholders")
    query.add_argument("--json", action="store_true", help="print JSON records")
    query.set_defaults(run=query_command)
    emulators = commands.add_parser("emulators",
                                    help="run fake-gcs-server and the BigQuery emulator")
    emulators.add_argument("--env-file", required=True,
                           help="file to write the KEY=VALUE settings to")
    emulators.set_defaults(run=emulators_command)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
