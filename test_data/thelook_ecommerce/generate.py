"""Incremental dirty batches that continue what seed.py loaded.

    python test_data/thelook_ecommerce/generate.py                  # today, 1% of the seed
    python test_data/thelook_ecommerce/generate.py --days 3         # the 3 days ending today
    python test_data/thelook_ecommerce/generate.py --date 2026-11-20 --rows 500 --tables orders,order_items
    python test_data/thelook_ecommerce/generate.py --rows 115000 --tables events   # ~2.2M events
    python test_data/thelook_ecommerce/generate.py --at now       # today's rows up to now
    python test_data/thelook_ecommerce/generate.py --at 14:00     # today, since the last batch

Each day's batch writes one file per table at ``{table}/date=YYYY-MM-DD/batch_{n}.{ext}``
(``n`` counts every batch, so a day may hold several) and a manifest (rows per file,
duplicates injected, dirt counts, malformed rows) under ``{state-dir}/manifests/``. A batch
covers a window of its day: from the end of the previous batch (or midnight) to ``--at``
(UTC; default the end of the day), so more batches can land the same day until one covers
it to midnight. Dirt kinds and rates are documented in ``dirt.py``; moves, price changes and
late parents in ``changes.py``.
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
from test_data.thelook_ecommerce import synthetic as syn
from test_data.thelook_ecommerce.batches import make_batch
from test_data.thelook_ecommerce.changes import apply_changes
from test_data.thelook_ecommerce.dirt import DirtRates, make_dirty
from test_data.thelook_ecommerce.state import GeneratorState
from test_data.thelook_ecommerce.synthetic import TABLES
from test_data.thelook_ecommerce.writers import FORMATS, write_table


class GenerateError(Exception):
    """A request the generator refuses, reported as one sentence."""


def time_of_day(text: str) -> int:
    """Seconds since midnight UTC of ``HH:MM[:SS]``, or of the current time for ``now``."""
    if text == "now":
        now = dt.datetime.now(dt.UTC)
        return now.hour * 3600 + now.minute * 60 + now.second
    try:
        t = dt.time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not HH:MM, HH:MM:SS or now") from None
    return t.hour * 3600 + t.minute * 60 + t.second


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--date", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date(),
                   help="last landing date YYYY-MM-DD (default: today UTC)")
    p.add_argument("--days", type=int, default=1, help="number of days ending at --date")
    p.add_argument("--at", type=time_of_day, default=None, metavar="HH:MM|now",
                   help="end the last day's batch at this UTC time (default: midnight): "
                        "intra-day batches, each since the previous one")
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


def _utc(epoch_s: int) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def batch_windows(first: dt.date, days: int, at: int | None, resume: int | None,
                  ) -> list[tuple[int, int]]:
    """[start, end) epoch seconds of each day's batch: whole days, the last one ending at
    ``at``; the first one starting where the previous batch ended (``resume``).

    Time only moves forward: an earlier window could hold orders older than their users.
    """
    windows = [(syn.epoch(first + dt.timedelta(days=i)),
                syn.epoch(first + dt.timedelta(days=i + 1))) for i in range(days)]
    if at is not None:
        windows[-1] = (windows[-1][0], windows[-1][0] + at)
    if resume is not None:
        windows[0] = (max(windows[0][0], resume), windows[0][1])
    if windows[0][0] >= windows[0][1]:
        last = _utc(resume - 1)[:10] if resume % syn.DAY == 0 else _utc(resume)
        raise GenerateError(f"batches must land after {last} (the end of the last batch); "
                            f"this one would end at {_utc(windows[0][1])}")
    return windows


def generate(args: argparse.Namespace) -> list[dict]:
    state_dir = args.state_dir or settings.generator_state_dir()
    state = GeneratorState.load(state_dir)
    seed_date = dt.date.fromisoformat(state.seed_date)
    dest = args.dest or str(settings.bucket_path("inbox"))
    store = store_for_uri(dest)
    manifests = []
    first = args.date - dt.timedelta(days=args.days - 1)
    if first < seed_date:
        raise GenerateError(f"batches must land on or after the seed date {seed_date}; "
                            f"got {first}")
    windows = batch_windows(first, args.days, args.at, state.resumes_at())
    for offset, window in enumerate(windows):
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
        first_new = dict(state.next_ids)
        batch = make_batch(state, date, n_orders, n_users, n_products, rng, window)
        # Moves, price changes, late parents (changes.py), on a random stream of their own.
        apply_changes(batch, state, np.random.default_rng([seed, date.toordinal(), seq, 13]),
                      window, first_new)
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
        manifest = {"kind": "batch", "batch": seq, "date": date.isoformat(),
                    "window": [_utc(window[0]), _utc(window[1])], "dest": store.uri(),
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
        print(json.dumps({"date": m["date"], "batch": m["batch"], "window": m["window"],
                          "seconds": m["seconds"],
                          "rows": {f["table"]: f["rows"] for f in m["files"]}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
