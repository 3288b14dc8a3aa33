"""Raw-file conventions shared by the dirty-batch generator and the ingestion code.

One place lists the timestamp formats, null sentinels and currency markers that raw
batches may contain, so the generator that writes them and the parser that reads them
cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimestampFormat:
    name: str
    strftime: str | None  # None: Unix epoch seconds
    example: str


# Seven formats a careful parser reads without ambiguity: every one spells the year
# first or names the month, so 03/04 vs 04/03 never arises. All are UTC.
TIMESTAMP_FORMATS: tuple[TimestampFormat, ...] = (
    TimestampFormat("iso8601_utc", "%Y-%m-%dT%H:%M:%SZ", "2024-03-05T14:22:01Z"),
    TimestampFormat("bigquery_utc", "%Y-%m-%d %H:%M:%S UTC", "2024-03-05 14:22:01 UTC"),
    TimestampFormat("sql_naive_utc", "%Y-%m-%d %H:%M:%S", "2024-03-05 14:22:01"),
    TimestampFormat("slashed_ymd", "%Y/%m/%d %H:%M:%S", "2024/03/05 14:22:01"),
    TimestampFormat("day_mon_year", "%d-%b-%Y %H:%M:%S", "05-Mar-2024 14:22:01"),
    TimestampFormat("rfc1123", "%a, %d %b %Y %H:%M:%S GMT", "Tue, 05 Mar 2024 14:22:01 GMT"),
    TimestampFormat("unix_epoch_s", None, "1709648521"),
)

# The format clean seed files use: what a BigQuery CSV export writes.
SEED_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S UTC"

# Spellings of "no value" that raw batches use; matched case-insensitively after trimming.
NULL_SENTINELS: tuple[str, ...] = ("N/A", "none", "-", "missing", "#N/A")
# What ingestion also treats as null (the empty string and SQL's NULL).
INGEST_NULL_SENTINELS: tuple[str, ...] = (*NULL_SENTINELS, "NULL", "")

# Currency markers found on price columns -> ISO 4217 code.
CURRENCY_MARKERS: dict[str, str] = {"$": "USD", "USD": "USD", "EUR": "EUR", "€": "EUR",
                                    "£": "GBP", "GBP": "GBP", "¥": "JPY", "JPY": "JPY"}

# The first landing date the inbox layout {table}/date=YYYY-MM-DD/ may use: bronze has a
# daily partition for every day from here on, and the generators refuse earlier dates.
FIRST_LANDING_DATE = "2024-01-01"

# Object types the inbox accepts, by name (content is still sniffed: a .csv may hold JSON
# Lines). Any of them may be gzip-compressed with a further ``.gz``. Other objects are
# rejected with the reason and moved to the quarantine bucket, never read.
ALLOWED_SUFFIXES: tuple[str, ...] = (".csv", ".tsv", ".psv", ".txt", ".json", ".jsonl",
                                     ".ndjson", ".parquet", ".pq")


def disallowed_type(key: str) -> str | None:
    """Why an object's name rules it out as a landing file, or None when it is allowed."""
    name = key.rsplit("/", 1)[-1].lower()
    base = name.removesuffix(".gz")
    if base.endswith(ALLOWED_SUFFIXES):
        return None
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else "(no extension)"
    return (f"disallowed type {suffix}: landing files end in "
            f"{', '.join(ALLOWED_SUFFIXES)} (optionally .gz)")
