"""The search commands of the ``ecommerce`` CLI, on the configured warehouse and embedder.

Exit codes: 0 with results; 2 with one sentence on stderr when the id is unknown, the table
is missing or empty, or its vectors come from another model than the configured embedder.
"""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from ecommerce_assets.embeddings import search
from ecommerce_assets.embeddings.spec import EMBEDDING_TABLES

TABLES = {"similar-products": "product_catalog", "search-products": "product_catalog",
          "lookalike-customers": "customer_profiles"}


def format_table(rows: list[dict]) -> str:
    """A plain aligned text table (columns of the first row)."""
    if not rows:
        return "(no results)"
    columns = list(rows[0])

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"
        return "" if value is None else str(value)

    cells = [[cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def run(command: str, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from resources.deployment import build_resources

    if args.k < 1:
        print(f"ecommerce {command}: -k must be at least 1", file=err)
        return 2
    resources = build_resources()
    warehouse, embedder = resources["warehouse"], resources["embedder"]
    table = EMBEDDING_TABLES[TABLES[command]]
    try:
        loaded = search.load_table(warehouse, table, embedder.model_name)
        if command == "search-products":
            query = embedder.encode([args.text])[0]
            if not query.any():
                print(f"ecommerce {command}: the text {args.text!r} has no word the model "
                      f"knows", file=err)
                return 2
            rows = search.search_text(loaded, query, embedder.model_name, args.k)
        else:
            key = getattr(args, table.key)
            try:
                rows = search.similar(loaded, key, args.k)
            except KeyError:
                print(f"ecommerce {command}: no {table.key} {key} in {table.warehouse_table} "
                      f"({len(loaded.keys)} rows)", file=err)
                return 2
    except (search.EmptyTable, search.ModelMismatch) as exc:
        print(f"ecommerce {command}: {exc}", file=err)
        return 2
    # The id first, the score second, then the display columns.
    rows = [{table.key: r[table.key], "score": r["score"],
             **{c: r[c] for c in table.display}} for r in rows]
    print(json.dumps(rows) if args.json else format_table(rows), file=out)
    return 0
