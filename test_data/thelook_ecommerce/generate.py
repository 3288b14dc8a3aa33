"""Incremental dirty batches that continue what seed.py loaded.

    python test_data/thelook_ecommerce/generate.py                  # today, 1% of the seed
    python test_data/thelook_ecommerce/generate.py --days 3         # the 3 days ending today
    python test_data/thelook_ecommerce/generate.py --date 2026-11-20 --rows 500 --tables orders,order_items
    python test_data/thelook_ecommerce/generate.py --rows 115000 --tables events   # ~2.2M events

Each day's batch writes one file per table at ``{table}/date=YYYY-MM-DD/batch_{n}.{ext}``
and a manifest (rows per file, duplicates injected, dirt counts, malformed rows) under
``{state-dir}/manifests/``. Dirt kinds and rates are documented in ``dirt.py``.
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

import numpy as np

from ecommerce_assets.formats import FIRST_LANDING_DATE
from resources import settings
from resources.object_store import store_for_uri
from test_data.thelook_ecommerce import reference as ref
from test_data.thelook_ecommerce.batches import make_batch
from test_data.thelook_ecommerce.dirt import DirtRates, make_dirty
from test_data.thelook_ecommerce.state import GeneratorState
from test_data.thelook_ecommerce.synthetic import TABLES
from test_data.thelook_ecommerce.writers import FORMATS, write_table


class GenerateError(Exception):
    """A request the generator refuses, reported as one sentence."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--date", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date(),
                   help="last landing date YYYY-MM-DD (default: today UTC)")
    p.add_argument("--days", type=int, default=1, help="number of days ending at --date")
    p.add_argument("--tables", default=",".join(TABLES),
                   help="comma-separated tables to write (default: all seven)")
    size = p.add_mutually_exclusive_group()
    size.add_argument("--rows", type=int, help="new orders per day (other tables follow)")
    size.add_argument("--fraction", type=float, default=0.01,
                      help="new orders/users per day as a fraction of the seeded ones")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: derived)")
    p.add_argument("--dest", default=None, help="a folder or gs://bucket[/prefix]")
    p.add_argument("--format", choices=FORMATS, default="csv")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--state-dir", type=Path, default=None)
    args = p.parse_args(argv)
    args.tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    unknown = sorted(set(args.tables) - set(TABLES))
    if unknown:
        p.error(f"unknown tables {unknown}; choose from {', '.join(TABLES)}")
    if args.date - dt.timedelta(days=args.days - 1) < dt.date.fromisoformat(FIRST_LANDING_DATE):
        p.error(f"batch dates must be on or after {FIRST_LANDING_DATE} (the first bronze "
                "partition)")
    if args.days < 1:
        p.error("--days must be at least 1")
    if args.rows is not None and args.rows < 1:
        p.error("--rows must be at least 1")
    if not args.fraction > 0:
        p.error("--fraction must be positive")
    return args


def generate(args: argparse.Namespace) -> list[dict]:
    state_dir = args.state_dir or settings.generator_state_dir()
    state = GeneratorState.load(state_dir)
    seed_date = dt.date.fromisoformat(state.seed_date)
    dest = args.dest or str(settings.bucket_path("inbox"))
    store = store_for_uri(dest)
    manifests = []
    first = args.date - dt.timedelta(days=args.days - 1)
    # Days only move forward: an earlier day could hold orders older than their users.
    if state.last_date and first <= dt.date.fromisoformat(state.last_date):
        raise GenerateError(f"batches must land after {state.last_date} (the last batch); "
                            f"got {first}")
    if first < seed_date:
        raise GenerateError(f"batches must land on or after the seed date {seed_date}; "
                            f"got {first}")
    for offset in range(args.days):
        started = time.perf_counter()
        date = first + dt.timedelta(days=offset)
        seq = state.batches + 1
        seed = args.seed if args.seed is not None else state.seed
        rng = np.random.default_rng([seed, date.toordinal(), seq])
        seeded_orders = max(1, round(ref.ORDERS_AT_SCALE_1 * state.scale))
        n_orders = args.rows if args.rows is not None else max(1, round(args.fraction *
                                                                        seeded_orders))
        n_users = max(1, round(0.8 * n_orders))
        n_products = max(1, n_orders // 50)
        batch = make_batch(state, date, n_orders, n_users, n_products, rng)
        files = []
        for name in args.tables:
            dirty = make_dirty(name, batch.tables[name], rng, DirtRates())
            written = write_table(store, name, dirty.table, date, f"batch_{seq:04d}",
                                  args.format, args.gzip, max_rows_per_file=10**9)
            files.append({
                "table": name, "key": written[0]["key"], "rows": dirty.table.num_rows,
                "new_rows": batch.new_rows[name], "updated_rows": batch.updated_rows[name],
                **dirty.counts,
            })
        # With --tables, the other tables' rows are generated (ids stay unique) but not
        # landed: the manifest says so, since their children will reference them.
        not_written = [t for t in TABLES if t not in args.tables]
        manifest = {"kind": "batch", "batch": seq, "date": date.isoformat(), "dest": store.uri(),
                    "format": args.format, "gzip": args.gzip, "files": files,
                    "tables_not_written": not_written,
                    "seconds": round(time.perf_counter() - started, 2)}
        state.save(state_dir)  # only after the files are written
        path = state_dir / "manifests" / f"batch-{date.isoformat()}-{seq:04d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(manifest, indent=2))
        manifests.append(manifest)
    return manifests


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        manifests = generate(args)
    except (FileNotFoundError, GenerateError) as exc:
        print(f"generate.py: {exc}", file=sys.stderr)
        return 2
    for m in manifests:
        print(json.dumps({"date": m["date"], "batch": m["batch"], "seconds": m["seconds"],
                          "rows": {f["table"]: f["rows"] for f in m["files"]}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
