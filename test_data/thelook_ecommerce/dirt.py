"""Make a clean table dirty, the way real exports are, and count every change.

All operations are pyarrow compute kernels over whole columns (no per-row Python), so a
multi-million-row events batch gets its dirt in seconds. The returned counts feed the
batch manifest, which lets tests account for every row and every dirty value.

Dirt kinds and default rates (per value of the affected columns unless noted):
- whitespace padding: 15% of string values get 1–3 spaces on the left, right or both;
- mixed case: 30% of category/status/gender values become lower, UPPER or sWAPPED case;
- null sentinels: every null is written as one of ``N/A``, ``none``, ``-``, ``missing``,
  ``#N/A`` (uniformly); 1% extra nulls are injected into a few optional columns first;
- currency: 40% of price values carry ``$`` (USD) or are converted to EUR (``EUR 12.34``),
  GBP (``£12.34``) or JPY (``¥1234``) at the project's static FX rates;
- timestamps: every value is written in one of the 7 formats of
  ``ecommerce_assets.formats.TIMESTAMP_FORMATS``, uniformly;
- malformed rows: 0.2% of rows get a non-numeric key or an unparseable timestamp
  (ingestion must quarantine or flag them);
- duplicates: 3% of rows (per row) are repeated, byte-identical, later in the file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecommerce_assets.formats import NULL_SENTINELS, TIMESTAMP_FORMATS
from resources.fx_rates import CURRENCY_DECIMALS, STATIC_RATES_TO_USD
from test_data.thelook_ecommerce.synthetic import KEY_COLUMN


@dataclass(frozen=True)
class DirtRates:
    padding: float = 0.15
    mixed_case: float = 0.30
    currency: float = 0.40
    injected_nulls: float = 0.01
    malformed_rows: float = 0.002
    duplicates: float = 0.03


PRICE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("cost", "retail_price"),
    "order_items": ("sale_price",),
    "inventory_items": ("cost", "product_retail_price"),
}
CASE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("category",),
    "inventory_items": ("product_category",),
    "orders": ("status", "gender"),
    "order_items": ("status",),
    "users": ("gender",),
}
NULL_INJECTION_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("email", "city"),
    "products": ("brand",),
    "inventory_items": ("product_brand",),
    "events": ("city",),
}
# Currency marker -> (ISO code, how the amount is written). "" means unmarked USD.
CURRENCY_STYLES: tuple[tuple[str, str, str], ...] = (
    ("$", "USD", "${}"),
    ("EUR", "EUR", "EUR {}"),
    ("£", "GBP", "£{}"),
    ("¥", "JPY", "¥{}"),
)
BAD_KEYS = ("#REF!", "12a", "id-7", "1.5.2")
BAD_TIMESTAMPS = ("not a date", "2024-13-45 25:61:00", "31/31/2024", "yesterday")


@dataclass
class DirtyTable:
    """The dirty, all-string table plus what was done to it."""

    table: pa.Table
    source_row: np.ndarray  # clean row index behind each output row
    counts: dict = field(default_factory=dict)
    malformed_rows: dict[str, list[int]] = field(default_factory=dict)  # kind -> clean rows


def _pick(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def _render_timestamps(col: pa.Array, rng: np.random.Generator,
                       counts: Counter, replaced: np.ndarray) -> pa.Array:
    seconds = col.cast(pa.timestamp("s", tz="UTC"))
    variants = []
    for fmt in TIMESTAMP_FORMATS:
        if fmt.strftime is None:
            variants.append(seconds.cast(pa.int64()).cast(pa.string()))
        else:
            variants.append(pc.strftime(seconds, format=fmt.strftime, locale="C"))
    choice = rng.integers(0, len(variants), len(seconds))
    valid = ~np.asarray(seconds.is_null()) & ~replaced  # replaced: malformed on purpose
    for i, fmt in enumerate(TIMESTAMP_FORMATS):
        counts[f"timestamp_format.{fmt.name}"] += int(((choice == i) & valid).sum())
    return pc.choose(pa.array(choice, pa.int8()), *variants)


def _render_price(usd: pa.Array, rng: np.random.Generator, rate: float,
                  counts: Counter) -> pa.Array:
    n = len(usd)
    marked = _pick(rng, n, rate)
    # $ gets 40% of marked values, the three others 20% each.
    style = np.where(marked, rng.choice(len(CURRENCY_STYLES), n, p=[0.4, 0.2, 0.2, 0.2]), -1)
    variants = [usd.cast(pa.string())]
    for _marker, code, template in CURRENCY_STYLES:
        if code == "USD":
            amount = usd.cast(pa.string())
        else:
            converted = pc.round(pc.divide(usd, STATIC_RATES_TO_USD[code]),
                                 CURRENCY_DECIMALS[code])
            amount = (converted.cast(pa.int64()) if CURRENCY_DECIMALS[code] == 0
                      else converted).cast(pa.string())
        before, _, after = template.partition("{}")
        variants.append(pc.binary_join_element_wise(before, amount, after, ""))
    valid = ~np.asarray(usd.is_null())
    for i, (marker, _, _) in enumerate(CURRENCY_STYLES):
        counts[f"currency.{marker}"] += int(((style == i) & valid).sum())
    counts["currency.none"] += int(((style == -1) & valid).sum())
    return pc.choose(pa.array(style + 1, pa.int8()), *variants)


def _mixed_case(values: pa.Array, rng: np.random.Generator, rate: float,
                counts: Counter) -> pa.Array:
    n = len(values)
    variant = np.where(_pick(rng, n, rate), rng.integers(1, 4, n), 0)
    out = pc.choose(pa.array(variant, pa.int8()), values, pc.utf8_lower(values),
                    pc.utf8_upper(values), pc.utf8_swapcase(values))
    changed = pc.fill_null(pc.not_equal(out, values), False)
    counts["mixed_case_values"] += pc.sum(changed).as_py() or 0
    return out


def _pad(values: pa.Array, rng: np.random.Generator, rate: float, counts: Counter) -> pa.Array:
    n = len(values)
    padded = _pick(rng, n, rate) & ~np.asarray(values.is_null())
    side = rng.integers(0, 3, n)  # 0 left, 1 right, 2 both
    widths = pa.array(["", " ", "  ", "   "])
    left = widths.take(pa.array(np.where(padded & (side != 1), rng.integers(1, 4, n), 0)))
    right = widths.take(pa.array(np.where(padded & (side != 0), rng.integers(1, 4, n), 0)))
    counts["padded_values"] += int(padded.sum())
    return pc.binary_join_element_wise(left, values, right, "")


def make_dirty(table_name: str, clean: pa.Table, rng: np.random.Generator,
               rates: DirtRates = DirtRates()) -> DirtyTable:
    """Render ``clean`` as dirty strings; see the module docstring for what and how often."""
    n = clean.num_rows
    counts: Counter = Counter()
    prices = PRICE_COLUMNS.get(table_name, ())
    cased = CASE_COLUMNS.get(table_name, ())
    injectable = NULL_INJECTION_COLUMNS.get(table_name, ())
    key = KEY_COLUMN[table_name]

    # Malformed rows first, chosen among clean rows, so the manifest can name them.
    malformed = _pick(rng, n, rates.malformed_rows)
    bad_key_rows = malformed & (rng.random(n) < 0.5)
    bad_ts_rows = malformed & ~bad_key_rows
    first_ts = next((f.name for f in clean.schema if pa.types.is_timestamp(f.type)), None)
    if first_ts is None:
        bad_key_rows, bad_ts_rows = malformed, np.zeros(n, bool)

    columns = {}
    for field_ in clean.schema:
        name, col = field_.name, clean[field_.name].combine_chunks()
        if name in injectable:
            inject = _pick(rng, n, rates.injected_nulls) & ~np.asarray(col.is_null())
            counts["injected_nulls"] += int(inject.sum())
            col = pc.if_else(pa.array(inject), pa.scalar(None, col.type), col)
        if pa.types.is_timestamp(field_.type):
            replaced = bad_ts_rows if name == first_ts else np.zeros(n, bool)
            values = _render_timestamps(col, rng, counts, replaced)
        elif name in prices:
            values = _render_price(col, rng, rates.currency, counts)
        else:
            values = col.cast(pa.string())
            if pa.types.is_string(field_.type):
                if name in cased:
                    values = _mixed_case(values, rng, rates.mixed_case, counts)
                values = _pad(values, rng, rates.padding, counts)
        if name == key and bad_key_rows.any():
            bad = pa.array(BAD_KEYS).take(pa.array(rng.integers(0, len(BAD_KEYS), n)))
            values = pc.if_else(pa.array(bad_key_rows), bad, values)
        if name == first_ts and bad_ts_rows.any():
            bad = pa.array(BAD_TIMESTAMPS).take(pa.array(rng.integers(0, len(BAD_TIMESTAMPS), n)))
            values = pc.if_else(pa.array(bad_ts_rows), bad, values)
        # Every remaining null is spelled as one of the sentinels.
        nulls = np.asarray(values.is_null())
        sentinel = rng.integers(0, len(NULL_SENTINELS), n)
        for i, s in enumerate(NULL_SENTINELS):
            counts[f"null_sentinel.{s}"] += int((nulls & (sentinel == i)).sum())
        values = pc.fill_null(values, pa.array(NULL_SENTINELS).take(pa.array(sentinel)))
        columns[name] = values

    # Duplicates: repeat 3% of rows, each placed somewhere after its original.
    dup_src = np.flatnonzero(_pick(rng, n, rates.duplicates))
    order_key = np.concatenate([np.arange(n, dtype=float),
                                dup_src + rng.uniform(0.01, 1.0, len(dup_src)) *
                                np.maximum(n - dup_src, 1)])
    source_row = np.concatenate([np.arange(n), dup_src])[np.argsort(order_key, kind="stable")]
    table = pa.table(columns).take(pa.array(source_row))
    counts["rows_distinct"] = n
    counts["duplicates_injected"] = len(dup_src)
    counts["malformed.bad_key"] = int(bad_key_rows.sum())
    counts["malformed.bad_timestamp"] = int(bad_ts_rows.sum())
    return DirtyTable(table=table, source_row=source_row, counts=dict(sorted(counts.items())),
                      malformed_rows={"bad_key": np.flatnonzero(bad_key_rows).tolist(),
                                      "bad_timestamp": np.flatnonzero(bad_ts_rows).tolist()})
