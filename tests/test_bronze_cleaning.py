"""Value-level tests of the agent's column kernels: one dirt kind at a time."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from ecommerce_assets.bronze import cleaning
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.formats import TIMESTAMP_FORMATS

UTC = dt.UTC


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Order ID ", "order_id"), ("createdAt", "created_at"), ("\ufeffid", "id"),
    ("SALE-PRICE", "sale_price"), ("user__id", "user_id"), ("Num Of Item", "num_of_item"),
])
def test_header_normalization(raw: str, expected: str) -> None:
    assert cleaning.normalize_header(raw) == expected


def test_trimming_and_null_sentinels_any_case() -> None:
    raw = ["  Jeans ", "N/A", "n/a", "NONE", "None", "-", " missing ", "MISSING", "#n/a",
           "NULL", "null", "", "   ", "-5", "none of these", None]
    assert cleaning.clean_text(pa.array(raw)).to_pylist() == [
        "Jeans", None, None, None, None, None, None, None, None, None, None, None, None,
        "-5", "none of these", None]


def test_integers() -> None:
    parsed = cleaning.parse_int(pa.array(["12", "+7", "-3", "12.0", "12a", "1.5", "#REF!",
                                          None]))
    assert parsed.values.to_pylist() == [12, 7, -3, 12, None, None, None, None]
    assert parsed.bad.tolist() == [False, False, False, False, True, True, True, False]


def test_floats_never_guess_a_decimal_comma() -> None:
    parsed = cleaning.parse_float(pa.array(["12.5", "1,234.50", ".5", "1e3", "12,50", "x"]))
    assert parsed.values.to_pylist() == [12.5, 1234.5, 0.5, 1000.0, None, None]
    assert parsed.bad.tolist() == [False, False, False, False, True, True]


def test_prices_keep_their_currency_code() -> None:
    raw = ["$12.50", "EUR 11.57", "11.57 eur", "£9.84", "¥1866", "12.5", "USD12", "€3",
           "$12 EUR", "abc", "$", None]
    parsed = cleaning.parse_price(pa.array(raw))
    assert parsed.values.to_pylist() == [12.5, 11.57, 11.57, 9.84, 1866.0, 12.5, 12.0, 3.0,
                                         None, None, None, None]
    assert parsed.codes.to_pylist() == ["USD", "EUR", "EUR", "GBP", "JPY", None, "USD", "EUR",
                                        None, None, None, None]
    assert parsed.bad.tolist() == [False] * 8 + [True, True, True, False]


def test_every_generator_timestamp_format_parses_to_utc() -> None:
    moment = dt.datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC)
    examples = [f.example for f in TIMESTAMP_FORMATS]
    assert len(examples) == 7
    parsed = cleaning.parse_timestamp(pa.array(examples))
    assert parsed.values.to_pylist() == [moment] * 7
    assert not parsed.bad.any()


def test_iso_offsets_and_fractions_are_converted_to_utc() -> None:
    parsed = cleaning.parse_timestamp(pa.array([
        "2024-03-05T16:22:01+02:00", "2024-03-05 09:22:01-0500", "2024-03-05T14:22:01.250Z",
        "2024-03-05"]))
    assert parsed.values.to_pylist() == [
        dt.datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC), dt.datetime(2024, 3, 5, 14, 22, 1, tzinfo=UTC),
        dt.datetime(2024, 3, 5, 14, 22, 1, 250000, tzinfo=UTC), dt.datetime(2024, 3, 5, tzinfo=UTC)]


def test_ambiguous_or_impossible_timestamps_are_faults_not_guesses() -> None:
    raw = ["03/04/2024 10:00:00", "2024-13-45 25:61:00", "yesterday", "31/31/2024", None]
    parsed = cleaning.parse_timestamp(pa.array(raw))
    assert parsed.values.to_pylist() == [None] * 5
    assert parsed.bad.tolist() == [True, True, True, True, False]


def test_typed_parquet_columns_are_cast_not_reparsed() -> None:
    stamps = pa.array([dt.datetime(2024, 1, 1, 12)], pa.timestamp("ms"))  # naive = UTC
    _, parsed = cleaning.coerce(stamps, "timestamp")
    assert parsed.values.to_pylist() == [dt.datetime(2024, 1, 1, 12, tzinfo=UTC)]
    _, parsed = cleaning.coerce(pa.array([3, None], pa.int32()), "int")
    assert parsed.values.type == pa.int64() and parsed.values.to_pylist() == [3, None]
    _, parsed = cleaning.coerce(pa.array([2.5]), "price")
    assert parsed.values.to_pylist() == [2.5] and parsed.codes.to_pylist() == [None]


def test_schema_checks_are_evaluated_per_row() -> None:
    latitude = BRONZE_TABLES["users"].schema.columns["latitude"]
    failures = cleaning.check_failures(pa.array([45.0, 91.0, None, -90.0]),
                                       tuple(latitude.checks))
    assert len(failures) == 1
    mask, name = failures[0]
    assert mask.tolist() == [False, True, False, False] and name.startswith("in_range")


def test_json_objects_escape_everything() -> None:
    out = cleaning.json_objects({"note": pa.array(['say "hi"\n\\', None]),
                                 "x": pa.array(["1", "tab\there"])}, 2).to_pylist()
    assert [json.loads(o) for o in out] == [{"note": 'say "hi"\n\\', "x": "1"},
                                            {"note": None, "x": "tab\there"}]
