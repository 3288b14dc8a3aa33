"""Column kernels of the ingestion agent: raw values in, typed values and per-row faults out.

Every function works on a whole Arrow array with pyarrow compute (no per-row Python), so a
multi-million-row batch is cleaned in a few passes. A value that cannot be read with
certainty is never guessed: it becomes a fault that quarantines its row, with a reason.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pandera import Check

from ecommerce_assets.formats import CURRENCY_MARKERS, INGEST_NULL_SENTINELS, TIMESTAMP_FORMATS

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")


def normalize_header(name: str) -> str:
    """'  Order ID ' -> 'order_id', 'createdAt' -> 'created_at', '\\ufeffid' -> 'id'."""
    s = name.replace("\ufeff", "").strip()
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return re.sub(r"[^0-9A-Za-z]+", "_", s).strip("_").lower()


def _case_variants(word: str) -> set[str]:
    return {"".join(p) for p in itertools.product(
        *[(ch.lower(), ch.upper()) if ch.isalpha() else (ch,) for ch in word])}


# Every spelling of every sentinel: one hash lookup per value matches them
# case-insensitively without lower-casing (allocating) every string first.
_NULL_SET = pa.array(sorted(set().union(*map(_case_variants, INGEST_NULL_SENTINELS))))


def clean_text(values: pa.Array) -> pa.Array:
    """Trim whitespace; null sentinels (any case) and empty strings become null."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.is_in(trimmed, value_set=_NULL_SET), None, trimmed)


@dataclass
class Parsed:
    """Typed values, the ISO currency codes for prices, and which rows failed to parse."""

    values: pa.Array
    bad: np.ndarray  # bool per row: a non-null value that could not be read
    codes: pa.Array | None = None


def _mask(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False), dtype=bool)


def _not_null(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.is_valid(), dtype=bool)


_INT = r"^[+-]?\d{1,18}(\.0*)?$"  # "12" and "12.0" (a float-typed export of an integer)
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_FLOAT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def parse_int(text: pa.Array) -> Parsed:
    ok = pc.match_substring_regex(text, _INT)
    digits = pc.replace_substring_regex(pc.if_else(ok, text, None), r"^\+|\.0*$", "")
    return Parsed(digits.cast(pa.int64()), _not_null(text) & ~_mask(ok))


def parse_float(text: pa.Array) -> Parsed:
    # "1,234.50": thousands separators only in that exact shape; "12,50" stays a fault
    # (decimal comma or two values? ambiguous, so not guessed).
    text = pc.if_else(pc.match_substring_regex(text, _THOUSANDS),
                      pc.replace_substring(text, ",", ""), text)
    ok = pc.match_substring_regex(text, _FLOAT)
    number = pc.replace_substring_regex(pc.if_else(ok, text, None), r"^\+", "")
    return Parsed(number.cast(pa.float64()), _not_null(text) & ~_mask(ok))


_MARKERS = sorted(CURRENCY_MARKERS, key=len, reverse=True)
_MARKER_RE = "|".join(re.escape(m) for m in _MARKERS)
_PRICE = rf"(?i)^(?P<pre>{_MARKER_RE})?\s*(?P<amount>[^\s]*?)\s*(?P<post>{_MARKER_RE})?$"
_MARKER_KEYS = pa.array([m.upper() for m in CURRENCY_MARKERS])
_MARKER_CODES = pa.array(list(CURRENCY_MARKERS.values()))


def _code(marker: pa.Array) -> pa.Array:
    return _MARKER_CODES.take(pc.index_in(pc.utf8_upper(marker), value_set=_MARKER_KEYS))


def parse_price(text: pa.Array) -> Parsed:
    """'$12.50' -> (12.5, 'USD'); 'EUR 11.57' / '11.57 eur' -> (11.57, 'EUR'); '12.5' -> (12.5, null).

    A value with two different markers ('$12 EUR') or an unreadable amount is a fault.
    """
    parts = pc.extract_regex(text, _PRICE)
    amount = parse_float(pc.struct_field(parts, "amount"))
    pre_code = _code(pc.struct_field(parts, "pre"))  # null when there is no marker
    post_code = _code(pc.struct_field(parts, "post"))
    codes = pc.coalesce(pre_code, post_code)
    conflict = _mask(pc.not_equal(pre_code, post_code))  # two different markers
    bad = _not_null(text) & (~_not_null(parts) | amount.bad | conflict
                             | (_not_null(parts) & ~_not_null(amount.values)))
    keep = pa.array(~bad)
    return Parsed(pc.if_else(keep, amount.values, None), bad, pc.if_else(keep, codes, None))


@dataclass(frozen=True)
class _Format:
    strptime: str | None  # None: Unix epoch seconds
    length: int | None    # the length of every value in this format; None: varies


# The seven generator formats (tried first on values of their length) plus ISO 8601 variants
# with an offset or without seconds' suffix, tried on whatever is left.
_FORMATS = (
    *(_Format(f.strftime, len(f.example)) for f in TIMESTAMP_FORMATS),
    _Format("%Y-%m-%dT%H:%M:%S%z", None),
    _Format("%Y-%m-%d %H:%M:%S%z", None),
    _Format("%Y-%m-%dT%H:%M:%S", None),
    _Format("%Y-%m-%d", None),
)
_EPOCH = r"^\d{9,11}$"
_ISO_FRACTION = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\.\d{1,9}(Z|[+-]\d\d:?\d\d)?$"


def _try_format(fmt: _Format, text: pa.Array) -> pa.Array:
    """int64 microseconds since the epoch, null where ``text`` is not in ``fmt``."""
    if fmt.strptime is None:
        ok = pc.match_substring_regex(text, _EPOCH)
        return pc.multiply(pc.if_else(ok, text, None).cast(pa.int64()), 1_000_000)
    parsed = pc.strptime(text, format=fmt.strptime, unit="us", error_is_null=True)
    return parsed.cast(pa.timestamp("us")).cast(pa.int64()) if parsed.type.tz is None \
        else parsed.cast(pa.int64())


def parse_timestamp(text: pa.Array) -> Parsed:
    """Any of the 7 generator formats or ISO 8601 with an offset -> UTC timestamp.

    Naive values are UTC (every generator format is). Values are first tried only against
    the formats of their length, so each value is parsed about once.
    """
    n = len(text)
    out = np.zeros(n, dtype=np.int64)
    done = ~_not_null(text)
    lengths = pc.fill_null(pc.utf8_length(text), -1).to_numpy()

    def attempt(fmt: _Format, rows: np.ndarray) -> None:
        idx = np.flatnonzero(rows)
        if not len(idx):
            return
        got = _try_format(fmt, text.take(pa.array(idx)))
        ok = _not_null(got)
        out[idx[ok]] = got.filter(pa.array(ok)).to_numpy()
        done[idx[ok]] = True

    for fmt in _FORMATS:
        if fmt.length is not None:
            attempt(fmt, ~done & (lengths == fmt.length))
    for fmt in _FORMATS:
        attempt(fmt, ~done)
    rest = np.flatnonzero(~done)
    if len(rest):  # fractional seconds: parse without them, then add the microseconds
        sub = text.take(pa.array(rest))
        iso = _mask(pc.match_substring_regex(sub, _ISO_FRACTION))
        if iso.any():
            frac_text = sub.filter(pa.array(iso))
            whole = parse_timestamp(pc.replace_substring_regex(frac_text, r"\.\d{1,9}", ""))
            digits = pc.struct_field(pc.extract_regex(frac_text, r"\.(?P<f>\d{1,9})"), "f")
            micros = pc.utf8_slice_codeunits(
                pc.binary_join_element_wise(digits, "000000", ""), 0, 6).cast(pa.int64())
            got = pc.add(whole.values.cast(pa.int64()), micros)
            ok = _not_null(got)
            idx = rest[iso][ok]
            out[idx] = got.filter(pa.array(ok)).to_numpy()
            done[idx] = True
    valid = _not_null(text) & done
    values = pa.array(out, type=pa.int64(), mask=~valid).cast(TIMESTAMP_TYPE)
    return Parsed(values, _not_null(text) & ~done)


def parse_bool(text: pa.Array) -> Parsed:
    lowered = pc.utf8_lower(text)
    true = pc.is_in(lowered, value_set=pa.array(["true", "t", "yes", "y", "1"]))
    false = pc.is_in(lowered, value_set=pa.array(["false", "f", "no", "n", "0"]))
    ok = pc.or_(true, false)
    return Parsed(pc.if_else(ok, true, None), _not_null(text) & ~_mask(ok))


PARSERS = {"int": parse_int, "float": parse_float, "price": parse_price,
           "timestamp": parse_timestamp, "bool": parse_bool}
_TARGET = {"int": pa.int64(), "float": pa.float64(), "price": pa.float64(),
           "timestamp": TIMESTAMP_TYPE, "bool": pa.bool_()}


def coerce(values: pa.Array, kind: str) -> tuple[pa.Array, Parsed | None]:
    """Clean one raw column for a column of ``kind``; returns (cleaned text, parsed or None).

    Already-typed input (Parquet) that matches the kind is cast directly; anything else goes
    through the text path.
    """
    if kind != "text" and not pa.types.is_string(values.type) and values.type != pa.null():
        target = _TARGET[kind]
        same_family = (
            (kind == "int" and pa.types.is_integer(values.type))
            or (kind in ("float", "price") and (pa.types.is_floating(values.type)
                                                or pa.types.is_integer(values.type)))
            or (kind == "timestamp" and pa.types.is_timestamp(values.type))
            or (kind == "bool" and pa.types.is_boolean(values.type)))
        if same_family:
            if kind == "timestamp" and values.type.tz is None:
                values = values.cast(pa.timestamp("us")).cast(pa.int64()).cast(target)
            return values, Parsed(values.cast(target), np.zeros(len(values), bool),
                                  pa.nulls(len(values), pa.string()) if kind == "price"
                                  else None)
    text = clean_text(values)
    if kind == "text":
        return text, None
    return text, PARSERS[kind](text)


def check_failures(values: pa.Array, checks: tuple[Check, ...]) -> list[tuple[np.ndarray, str]]:
    """Evaluate a column's Pandera checks row by row; [(failing rows, check description)].

    Nulls pass value checks (nullability is checked separately). The supported checks are
    those :mod:`ecommerce_assets.quality` can also compile to SQL.
    """
    out = []
    for check in checks:
        stats = check.statistics or {}
        name = check.name
        if name == "isin":
            ok = pc.is_in(values, value_set=pa.array(stats["allowed_values"]))
        elif name == "in_range":
            lo, hi = stats["min_value"], stats["max_value"]
            ok = pc.and_(pc.greater_equal(values, lo) if stats.get("include_min", True)
                         else pc.greater(values, lo),
                         pc.less_equal(values, hi) if stats.get("include_max", True)
                         else pc.less(values, hi))
        elif name == "greater_than_or_equal_to":
            ok = pc.greater_equal(values, stats["min_value"])
        elif name == "less_than_or_equal_to":
            ok = pc.less_equal(values, stats["max_value"])
        elif name == "str_matches":
            ok = pc.match_substring_regex(values, stats["pattern"])
        else:
            raise NotImplementedError(f"check {name!r} has no row-level evaluator")
        failing = _not_null(values) & ~_mask(ok)
        if failing.any():
            out.append((failing, f"{name}{_describe(stats)}"))
    return out


def _describe(stats: dict) -> str:
    shown = {k: v for k, v in stats.items() if not k.startswith("include_")}
    return "(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


_JSON_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def json_string(values: pa.Array) -> pa.Array:
    """Each value as a JSON string literal ('null' for null), vectorised."""
    text = values.cast(pa.string())
    for old, new in _JSON_ESCAPES:
        text = pc.replace_substring(text, old, new)
    text = pc.replace_substring_regex(text, r"[\x00-\x1f]", " ")  # other control characters
    return pc.fill_null(pc.binary_join_element_wise('"', text, '"', ""), "null")


def json_objects(columns: dict[str, pa.Array], length: int) -> pa.Array:
    """One JSON object per row from named columns (values as strings); null when none."""
    if not columns:
        return pa.nulls(length, pa.string())
    parts = []
    for i, (name, values) in enumerate(columns.items()):
        key = ("{" if i == 0 else ",") + json_string(pa.array([name])).to_pylist()[0] + ":"
        parts += [pa.scalar(key), json_string(values)]
    return pc.binary_join_element_wise(*parts, pa.scalar("}"), "")
