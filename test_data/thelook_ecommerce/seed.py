"""Initial load: write the seven thelook tables into the inbox in the landing layout.

    python test_data/thelook_ecommerce/seed.py                      # synthetic, scale 0.01
    python test_data/thelook_ecommerce/seed.py --scale 1.0          # real sizes, ~3.3M rows
    python test_data/thelook_ecommerce/seed.py --source bigquery --limit 10000
    python test_data/thelook_ecommerce/seed.py --dest gs://my-inbox --format parquet

Files land at ``{table}/date=YYYY-MM-DD/seed_{table}.{ext}`` (split into parts above
``--max-rows-per-file``). The generator state that ``generate.py`` continues from is saved
under ``--state-dir`` (default ``$ECOMMERCE_HOME/generator``), with a manifest of every file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import pyarrow as pa

from ecommerce_assets.formats import FIRST_LANDING_DATE
from resources import settings
from resources.object_store import store_for_uri
from test_data.thelook_ecommerce import reference as ref
from test_data.thelook_ecommerce import synthetic
from test_data.thelook_ecommerce.state import GeneratorState, next_ids_after
from test_data.thelook_ecommerce.writers import FORMATS, write_table

BIGQUERY_DATASET = "bigquery-public-data.thelook_ecommerce"


class SeedError(Exception):
    """A failure the user can fix, reported as one sentence."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--source", choices=("synthetic", "bigquery"), default="synthetic")
    p.add_argument("--scale", type=float, default=0.01,
                   help="synthetic size; 1.0 = the real dataset's sizes (default 0.01)")
    p.add_argument("--seed", type=int, default=42, help="random seed (synthetic)")
    p.add_argument("--date", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date(),
                   help="landing date YYYY-MM-DD (default: today UTC)")
    p.add_argument("--dest", default=None,
                   help="a folder or gs://bucket[/prefix] (default: the local inbox)")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--gzip", action="store_true", help="gzip-compress every file")
    p.add_argument("--max-rows-per-file", type=int, default=1_000_000)
    p.add_argument("--limit", type=int, default=None, help="rows per table (bigquery)")
    p.add_argument("--project", default=None, help="GCP project billed for queries (bigquery)")
    p.add_argument("--state-dir", type=Path, default=None,
                   help="generator state folder (default: $ECOMMERCE_HOME/generator)")
    args = p.parse_args(argv)
    if args.date < dt.date.fromisoformat(FIRST_LANDING_DATE):
        p.error(f"--date must be on or after {FIRST_LANDING_DATE} (the first bronze partition)")
    return args


def from_bigquery(project: str | None, limit: int | None) -> dict[str, pa.Table]:
    """Read the seven public tables; raise SeedError with one sentence on any failure."""
    try:
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError
        from google.cloud import bigquery
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise SeedError(f"google-cloud-bigquery is not installed ({exc}).") from exc
    try:
        credentials, default_project = google.auth.default()
    except DefaultCredentialsError as exc:
        raise SeedError(
            "No Google Cloud credentials found: run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS, then retry.") from exc
    billing = project or default_project
    if not billing:
        raise SeedError("No GCP project to bill the queries to: pass --project.")
    client = bigquery.Client(project=billing, credentials=credentials)
    tables = {}
    for name in synthetic.TABLES:
        sql = f"SELECT * FROM `{BIGQUERY_DATASET}.{name}`"
        if limit:
            sql += f" LIMIT {int(limit)}"
        try:
            table = client.query(sql).to_arrow()
            # The generator looks rows up by key (searchsorted): keep tables in key order.
            tables[name] = table.sort_by(synthetic.KEY_COLUMN[name])
        except Exception as exc:
            raise SeedError(f"Reading {BIGQUERY_DATASET}.{name} failed: "
                            f"{str(exc).splitlines()[0]}") from exc
    return tables


def seed(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    if args.source == "synthetic":
        tables = synthetic.generate(args.scale, args.seed, args.date)
    else:
        tables = from_bigquery(args.project, args.limit)
    generated = time.perf_counter()

    dest = args.dest or str(settings.bucket_path("inbox"))
    store = store_for_uri(dest)
    files = []
    for name, table in tables.items():
        files += [{"table": name, **f} for f in write_table(
            store, name, table, args.date, f"seed_{name}", args.format, args.gzip,
            args.max_rows_per_file)]

    state_dir = args.state_dir or settings.generator_state_dir()
    # From BigQuery, the "scale" is how big the copy is relative to the real orders table.
    scale = args.scale if args.source == "synthetic" else tables["orders"].num_rows / ref.ORDERS_AT_SCALE_1
    state = GeneratorState(scale=scale, seed=args.seed, seed_date=args.date.isoformat(),
                           next_ids=next_ids_after(tables),
                           tables={t: tables[t] for t in tables if t not in ("events",
                                                                            "inventory_items")})
    state.save(state_dir)
    manifest = {
        "kind": "seed", "source": args.source, "scale": args.scale, "seed": args.seed,
        "date": args.date.isoformat(), "dest": store.uri(), "format": args.format,
        "files": files, "rows": {t: tables[t].num_rows for t in tables},
        "total_rows": sum(t.num_rows for t in tables.values()),
        "seconds": {"generate": round(generated - started, 2),
                    "total": round(time.perf_counter() - started, 2)},
    }
    manifests = state_dir / "manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    (manifests / f"seed-{args.date.isoformat()}.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        manifest = seed(args)
    except SeedError as exc:
        print(f"seed.py: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({k: manifest[k] for k in ("source", "date", "dest", "rows", "total_rows",
                                               "seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
