"""Hostile input through a real partition load: encodings, schema drift, quoted identifiers.

The warehouse is a real DuckDB file and the buckets are real folders (local resources).
Bombs and gigabyte files are in ``test_big_input.py`` (slow, in a subprocess).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import dagster as dg
import pytest

from ecommerce_assets.bronze.ingest import PartitionReport
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from resources.deployment import build_resources
from tests.test_bronze_ingest import DAY, HEADER
from tests.test_bronze_ingest import Env as BronzeEnv


class Env(BronzeEnv):
    """The bronze ingest test environment, plus a look at product names."""

    def names(self, ids: range) -> dict[int, str]:
        rows = self.rows(f"SELECT id, name FROM bronze.products "
                         f"WHERE id BETWEEN {ids.start} AND {ids.stop - 1}")
        return {r["id"]: r["name"] for r in rows}


@pytest.fixture
def env(ecommerce_home: Path) -> Env:
    return Env()


def by_object(report: PartitionReport) -> dict[str, dict]:
    return {e["object_key"].rsplit("/", 1)[-1]: e for e in report.registry}


def product_lines(ids: range, name: str, sep: str = ",") -> list[str]:
    return [sep.join([str(i), "1.5", "Jeans", name, "B", "2", "Men", "S", "1"]) for i in ids]


CP1252_NAME = "\u201cSlim\u201d \u2013 dark \u20ac5 \u2018ok\u2019 \u2014 \u2026"


def test_windows_1252_keeps_quotes_dashes_and_euro(env: Env) -> None:
    body = "\n".join([HEADER, *product_lines(range(1, 4), CP1252_NAME)]) + "\n"
    data = body.encode("cp1252")
    assert b"\x93" in data and b"\x80" in data  # really cp1252 bytes, not UTF-8
    env.put("win.csv", data)
    # 0x81 is undefined in cp1252: read as Latin-1 (U+0081), never a failure.
    env.put("undefined_byte.csv", (HEADER + "\n").encode() + b"9,1,J,caf\xe9\x81,B,2,M,S,1\n")
    report = env.ingest()
    objects = by_object(report)
    assert env.names(range(1, 4)) == dict.fromkeys(range(1, 4), CP1252_NAME)
    assert env.names(range(9, 10)) == {9: "caf\u00e9\u0081"}
    assert objects["win.csv"]["encoding"] == "cp1252"
    assert objects["undefined_byte.csv"]["encoding"] == "cp1252"
    stored = env.rows("SELECT object_key, encoding FROM ops.file_registry ORDER BY 1")
    assert [r["encoding"] for r in stored] == ["cp1252", "cp1252"]


def test_cp1252_byte_after_the_sample_is_read_again_as_cp1252(env: Env) -> None:
    filler = "\n".join(product_lines(range(10_000, 13_000), "plain")) + "\n"
    assert len(filler) > 1 << 16  # the odd byte is past the 64 KiB detection sample
    late = product_lines(range(20, 21), "\u201cquoted\u201d \u2013 \u20ac")[0] + "\n"
    env.put("late.csv", (HEADER + "\n" + filler).encode() + late.encode("cp1252"))
    entry = by_object(env.ingest())["late.csv"]
    assert (entry["status"], entry["rows_read"], entry["rows_loaded"]) == ("loaded", 3001, 3001)
    assert entry["encoding"] == "cp1252"
    assert env.names(range(20, 21)) == {20: "\u201cquoted\u201d \u2013 \u20ac"}


def test_utf16_with_bom_is_transcoded_with_every_row(env: Env) -> None:
    n = 5000  # several transcoding chunks' worth of text
    tsv = "\n".join([HEADER.replace(",", "\t"),
                     *product_lines(range(1000, 1000 + n), "Caf\u00e9 \u201ctee\u201d", "\t")])
    env.put("export.txt", (tsv + "\r\n").encode("utf-16"))  # BOM + native (little) endian
    assert (tsv + "\r\n").encode("utf-16")[:2] == b"\xff\xfe"
    csv_be = "\n".join([HEADER, *product_lines(range(9000, 9003), "\u00fcber")]) + "\n"
    env.put("be.csv", b"\xfe\xff" + csv_be.encode("utf-16-be"))
    env.put("bom8.csv", ("\ufeff" + "\n".join([HEADER, *product_lines(range(8000, 8001),
                                                                       "b\u00f8m")])).encode())
    env.put("plain8.csv.gz", gzip.compress(
        "\n".join([HEADER, *product_lines(range(7000, 7001), "\u00e9")]).encode()))
    objects = by_object(env.ingest())
    got = {k: (e["status"], e["rows_read"], e["rows_loaded"], e["encoding"])
           for k, e in objects.items()}
    assert got == {"export.txt": ("loaded", n, n, "utf-16-le"),
                   "be.csv": ("loaded", 3, 3, "utf-16-be"),
                   "bom8.csv": ("loaded", 1, 1, "utf-8-sig"),
                   "plain8.csv.gz": ("loaded", 1, 1, "utf-8")}
    names = env.names(range(1000, 1000 + n))
    assert len(names) == n and set(names.values()) == {"Caf\u00e9 \u201ctee\u201d"}
    assert set(env.names(range(9000, 9003)).values()) == {"\u00fcber"}


def test_broken_utf16_is_rejected_with_a_reason(env: Env) -> None:
    env.put("odd.csv", b"\xff\xfe" + (HEADER + "\n").encode("utf-16-le") + b"\x00\xd8")
    entry = by_object(env.ingest())["odd.csv"]
    assert entry["status"] == "rejected" and "UTF-16-LE" in entry["reason"]


# --- additive schema evolution -----------------------------------------------------------

DAY2 = DAY + dt.timedelta(days=1)
PRODUCTS = dg.AssetKey(["bronze", "products"])


def materialize_products(day: dt.date) -> dg.ExecuteInProcessResult:
    from ecommerce_assets.bronze.assets import bronze_assets

    return dg.materialize(bronze_assets, selection=[PRODUCTS], resources=build_resources("local"),
                          partition_key=day.isoformat())


def check(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    (found,) = [e for e in result.get_asset_check_evaluations() if e.check_name == name]
    return found


def test_schema_drift_adds_columns_warns_and_silver_still_refreshes(env: Env) -> None:
    from ecommerce_assets.silver.refresh import refresh_table
    from ecommerce_assets.silver.spec import SILVER_TABLES

    env.put("day1.csv", "\n".join([HEADER, *product_lines(range(1, 3), "old")]).encode(),
            day=DAY)
    first = materialize_products(DAY)
    assert first.success and check(first, "schema_drift").passed
    # Day 2: two new columns (one a reserved word), one whose name is not an identifier,
    # and no brand column.
    header = HEADER.replace(",brand", "") + ",Loyalty Tier,order,2nd choice"
    env.put("day2.csv", (header + "\n" + "11,1.5,Jeans,new,2,Men,S,1, gold ,A1,x\n"
                         + "12,1.5,Jeans,new,2,Men,S,1,N/A,,y\n").encode(), day=DAY2)
    second = materialize_products(DAY2)
    assert second.success
    assert check(second, "pandera_schema").passed
    drift = check(second, "schema_drift")
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.WARN
    (obj,) = drift.metadata["objects"].data
    assert obj["object"].endswith("/day2.csv") and obj["missing"] == ["brand"]
    assert obj["extra"] == ["loyalty_tier", "order", "2nd_choice"]
    assert obj["only_in_extra_columns_json"] == ["2nd_choice"]

    rows = env.rows('SELECT id, brand, loyalty_tier, "order", extra_columns '
                    "FROM bronze.products ORDER BY id")
    assert [(r["id"], r["brand"], r["loyalty_tier"], r["order"]) for r in rows] == [
        (1, "B", None, None), (2, "B", None, None),  # the earlier partition reads NULL
        (11, None, "gold", "A1"), (12, None, None, None)]  # trimmed, sentinel and '' -> NULL
    assert json.loads(rows[2]["extra_columns"])["2nd_choice"] == "x"  # kept, not lost
    columns = {r["column_name"]: r["data_type"] for r in env.rows(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'bronze' AND table_name = 'products'")}
    assert columns["loyalty_tier"] == columns["order"] == "VARCHAR"
    assert "2nd_choice" not in columns

    (materialization,) = [e.step_materialization_data.materialization
                          for e in second.get_asset_materialization_events()
                          if e.asset_key == PRODUCTS]
    schema = materialization.metadata["dagster/column_schema"].schema
    added = {c.name: c for c in schema.columns if c.name in ("loyalty_tier", "order")}
    assert added["loyalty_tier"].type == "string"
    assert added["loyalty_tier"].description.startswith(
        f"added from input products/date={DAY2}/day2.csv on ")

    # Silver selects its columns explicitly: the added ones do not break it.
    for name in SILVER_TABLES["products"].upstream("bronze"):
        table = BRONZE_TABLES[name]
        if not env.warehouse.table_exists(table.warehouse_table):
            env.warehouse.load_table(table.warehouse_table, table.arrow_schema.empty_table())
    report = refresh_table(env.warehouse, SILVER_TABLES["products"])
    assert report.rows == 4


def test_more_than_the_column_limit_stay_in_json(env: Env) -> None:
    from ecommerce_assets.bronze.agent import MAX_ADDED_COLUMNS

    extra = [f"x{i}" for i in range(MAX_ADDED_COLUMNS + 5)]
    env.put("wide.csv", (",".join([HEADER, *extra]) + "\n"
                         + ",".join([product_lines(range(1, 2), "w")[0], *extra]) + "\n")
            .encode())
    entry = by_object(env.ingest())["wide.csv"]
    assert entry["status"] == "loaded" and entry["extra_columns"] == ",".join(extra)
    (row,) = env.rows("SELECT * FROM bronze.products")
    assert all(row[f"x{i}"] == f"x{i}" for i in range(MAX_ADDED_COLUMNS))
    assert f"x{MAX_ADDED_COLUMNS}" not in row
    assert json.loads(row["extra_columns"])[f"x{MAX_ADDED_COLUMNS}"] == f"x{MAX_ADDED_COLUMNS}"
