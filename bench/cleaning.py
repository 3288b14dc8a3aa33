"""Bronze cleaning of one raw file: the project's agent against naive pandas.

    python bench/cleaning.py project|naive TABLE FILE.csv

``project`` is the agent's ``clean_object`` (Arrow kernels over whole columns, into Parquet);
``naive`` is what tutorials write: ``pd.read_csv(dtype=str)`` then ``DataFrame.apply(row ->
cleaned row, axis=1)`` with ``str.strip``, a sentinel set, ``datetime.strptime`` tried over the
seven formats, a regular expression for prices, and rows with an unreadable value set aside.
Both read the column kinds from the same bronze Pandera model and write Parquet. Prints one
JSON line: seconds (cleaning only, imports excluded), rows read, loaded and set aside.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ecommerce_assets.bronze.spec import BRONZE_TABLES, BronzeTable
from ecommerce_assets.formats import (
    CURRENCY_MARKERS,
    INGEST_NULL_SENTINELS,
    TIMESTAMP_FORMATS,
)

SENTINELS = {s.lower() for s in INGEST_NULL_SENTINELS}
FORMATS = [f.strftime for f in TIMESTAMP_FORMATS if f.strftime]
MARKERS = "|".join(re.escape(m) for m in sorted(CURRENCY_MARKERS, key=len, reverse=True))
PRICE = re.compile(rf"^({MARKERS})?\s*([0-9.,+-]+)\s*({MARKERS})?$", re.IGNORECASE)
CODES = {m.upper(): c for m, c in CURRENCY_MARKERS.items()}


class Unreadable(ValueError):
    pass


def _text(value: str) -> str | None:
    value = value.strip()
    return None if value.lower() in SENTINELS else value


def _int(value: str) -> int:
    try:
        return int(float(value.replace(",", ""))) if "." in value else int(value)
    except ValueError:
        raise Unreadable(value) from None


def _float(value: str) -> float:
    try:
        return float(value.replace(",", ""))
    except ValueError:
        raise Unreadable(value) from None


def _timestamp(value: str) -> dt.datetime:
    for fmt in FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            pass
    if value.isdigit():
        return dt.datetime.fromtimestamp(int(value), dt.UTC).replace(tzinfo=None)
    raise Unreadable(value)


def _price(value: str) -> tuple[float, str | None]:
    match = PRICE.match(value)
    if not match:
        raise Unreadable(value)
    marker = match[1] or match[3]
    return _float(match[2]), CODES[marker.upper()] if marker else None


def naive(table: BronzeTable, path: Path, out: Path) -> dict:
    import pandas as pd

    kinds = {c.name: c.kind for c in table.source_columns}

    def clean_row(row: pd.Series) -> pd.Series:
        cleaned, bad = {}, False
        for name, kind in kinds.items():
            value = _text(row[name]) if name in row else None
            try:
                if value is None:
                    cleaned[name] = None
                    if kind == "price":
                        cleaned[f"{name}_value_type"] = None
                elif kind == "int":
                    cleaned[name] = _int(value)
                elif kind == "float":
                    cleaned[name] = _float(value)
                elif kind == "timestamp":
                    cleaned[name] = _timestamp(value)
                elif kind == "price":
                    cleaned[name], cleaned[f"{name}_value_type"] = _price(value)
                else:
                    cleaned[name] = value
            except Unreadable:
                cleaned[name], bad = None, True
        cleaned["_bad"] = bad or cleaned[table.key] is None
        return pd.Series(cleaned)

    started = time.perf_counter()
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["is_duplicate_in_file"] = df.duplicated()
    cleaned = df.apply(clean_row, axis=1)
    cleaned["is_duplicate_in_file"] = df["is_duplicate_in_file"]
    good = cleaned[~cleaned["_bad"]].drop(columns="_bad")
    good.to_parquet(out)
    return {"seconds": time.perf_counter() - started, "rows_read": len(df),
            "rows_loaded": len(good), "rows_set_aside": int(cleaned["_bad"].sum())}


def project(table: BronzeTable, path: Path, out: Path) -> dict:
    from ecommerce_assets.bronze.agent import Lineage, clean_object

    lineage = Lineage(table.name, path.name, dt.date(2026, 1, 1),
                      dt.datetime.now(dt.UTC), "bench")
    started = time.perf_counter()
    result = clean_object(table, path, out, lineage)
    return {"seconds": time.perf_counter() - started, "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded, "rows_set_aside": result.rows_quarantined}


def checksums(table: BronzeTable, out: Path) -> dict[str, float]:
    """Per typed column, the sum (numbers) or count (timestamps) of what was loaded.

    Equal checksums of both implementations mean they read the same values.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    data = pq.read_table(out)
    sums = {}
    for c in table.source_columns:
        if c.kind in ("int", "float", "price"):
            sums[c.name] = round(pc.sum(data[c.name].cast("double")).as_py() or 0, 2)
        elif c.kind == "timestamp":
            sums[c.name] = pc.count(data[c.name]).as_py()
    return sums


def main() -> int:
    impl, table, path = sys.argv[1], BRONZE_TABLES[sys.argv[2]], Path(sys.argv[3])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.parquet"
        result = {"project": project, "naive": naive}[impl](table, path, out)
        print(json.dumps({**result, "checksums": checksums(table, out)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
