"""The ``ecommerce`` command.

``ecommerce backfill``: submit a partition backfill to a running Dagster (its daemon runs it;
the code is in ``ecommerce_assets/backfill.py``).
``ecommerce similar-products`` / ``search-products`` / ``lookalike-customers``: vector search
over the embedding tables of the configured warehouse (see docs/ARCHITECTURE.md, "Embeddings").

    ecommerce backfill 2026-11-01 2026-11-24                    # every bronze asset
    ecommerce backfill 2026-11-20 2026-11-24 --select 'key:"bronze/orders"' --wait
    ecommerce backfill 2026-11-20 2026-11-24 --select bronze/orders,bronze/order_items

The webserver is --url, else DAGSTER_WEBSERVER_URL, else the PORT (and HOST) `make dev`
takes, else the address the last `make dev` wrote to $ECOMMERCE_HOME/webserver.url, else
http://127.0.0.1:3000. It goes through the webserver's GraphQL API, exactly like the UI's "Materialize selected"
→ partition range, so the backfill shows on the UI's Backfills page. Assets with the
single-run backfill policy (bronze) are processed as one run per asset for the range.
For a run in this process instead, without a daemon, use
``dg launch --assets … --partition-range A...B``.

``ecommerce query "SQL" [--json]``: one BigQuery-dialect SELECT (``{bronze}``, ``{silver}``,
``{gold}``, ``{ops}`` placeholders) on the configured warehouse (``ECOMMERCE_DEPLOYMENT``).

    ecommerce query "SELECT status, COUNT(*) AS n FROM {silver}.orders GROUP BY status"

``ecommerce emulators --env-file PATH``: fake-gcs-server and the BigQuery emulator on free
loopback ports until interrupted; PATH gets the settings that point the gcp deployment at
them (``set -a; . PATH; set +a``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence

from ecommerce_assets import backfill as bf


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
    url = (args.url or bf.webserver_url()).rstrip("/")
    try:
        backfill_id = bf.submit_backfill(url, args.select, args.start, args.end)
    except bf.BackfillError as exc:
        print(f"ecommerce backfill: {exc}", file=sys.stderr)
        return 2
    print(f"backfill {backfill_id} submitted: {url}/overview/backfills/{backfill_id}")
    if not args.wait:
        return 0
    try:
        status = bf.wait_for(url, backfill_id, args.timeout)
    except bf.BackfillError as exc:
        print(f"ecommerce backfill: {exc}", file=sys.stderr)
        return 2
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
                          help="assets: Dagster selection syntax (group:bronze, "
                               "key:\"bronze/orders\") or keys a,b (default: group:bronze)")
    backfill.add_argument("--url", default=None,
                          help="the Dagster webserver (default: DAGSTER_WEBSERVER_URL, else "
                               "PORT/HOST, else what make dev wrote, else 127.0.0.1:3000)")
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
