"""Silver rules value by value, on tiny hand-made bronze tables in a real DuckDB file.

Each test loads a few bronze rows (unset columns null, lineage filled in), refreshes the
silver tables through the same SQL and statements the assets use, and reads the result.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from itertools import count
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.quality import validate_in_warehouse
from ecommerce_assets.silver import schemas
from ecommerce_assets.silver.checks import (
    item_count_mismatches,
    orphans,
    reconcile,
    reconcile_result,
    rule_result,
)
from ecommerce_assets.silver.refresh import refresh_table
from ecommerce_assets.silver.spec import REFERENCES, SILVER_TABLES
from resources.warehouse import DuckDBWarehouse

D1, D2, D3 = dt.date(2026, 11, 20), dt.date(2026, 11, 21), dt.date(2026, 11, 22)
T0 = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def at(day: dt.date, hour: int = 6) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


class Bronze:
    """Bronze tables of a fresh warehouse (a copy of ``template``, where every bronze table
    exists, empty), filled row by row."""

    def __init__(self, template: Path, path: Path) -> None:
        shutil.copyfile(template, path / "w.duckdb")
        self.wh = DuckDBWarehouse(path=str(path / "w.duckdb"))
        self.rows: dict[str, list[dict]] = {t: [] for t in BRONZE_TABLES}
        self.lines = count(2)

    def add(self, table: str, day: dt.date = D1, *, processed_at: dt.datetime | None = None,
            obj: str = "batch.csv", duplicate: bool = False, **values: object) -> None:
        self.rows[table].append({
            **values, "is_duplicate_in_file": duplicate,
            "source_object": f"{table}/date={day}/{obj}", "source_line": next(self.lines),
            "processed_at": processed_at or at(day), "landing_date": day})

    def refresh(self, *names: str) -> dict[str, object]:
        for name, rows in self.rows.items():
            if rows:
                schema = BRONZE_TABLES[name].arrow_schema
                full = [{c: r.get(c) for c in schema.names} for r in rows]
                self.wh.load_table(f"bronze.{name}", pa.Table.from_pylist(full, schema=schema))
        return {n: refresh_table(self.wh, SILVER_TABLES[n]) for n in names or SILVER_TABLES}

    def silver(self, table: str, order: str = "1") -> list[dict]:
        return self.wh.query_arrow(f"SELECT * FROM silver.{table} ORDER BY {order}").to_pylist()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "w.duckdb"
    wh = DuckDBWarehouse(path=str(path))
    wh.ensure_schemas()
    for table in BRONZE_TABLES.values():
        wh.load_table(table.warehouse_table, table.arrow_schema.empty_table())
    return path


@pytest.fixture
def bronze(template: Path, tmp_path: Path) -> Bronze:
    return Bronze(template, tmp_path)


def order(**overrides: object) -> dict:
    return {"order_id": 1, "user_id": 1, "status": "Processing", "gender": "F",
            "created_at": T0, "num_of_item": 1, **overrides}


def test_three_versions_of_an_order_collapse_to_the_latest(bronze: Bronze) -> None:
    bronze.add("orders", D1, **order(status="processing"))
    bronze.add("orders", D2, **order(status="SHIPPED", shipped_at=T0 + dt.timedelta(days=1)))
    bronze.add("orders", D3, **order(status=" complete ", shipped_at=T0 + dt.timedelta(days=1),
                                     delivered_at=T0 + dt.timedelta(days=2)))
    bronze.refresh("orders")
    (row,) = bronze.silver("orders")
    assert (row["status"], row["landing_date"]) == ("Complete", D3)
    assert row["delivered_at"] == T0 + dt.timedelta(days=2)
    assert row["gender"] == "Female"


def test_a_backfilled_older_day_does_not_win_over_a_newer_day(bronze: Bronze) -> None:
    # Day 1 re-ingested after day 2: newer processed_at, but the older landing day.
    bronze.add("orders", D2, processed_at=at(D2), **order(status="Shipped"))
    bronze.add("orders", D1, processed_at=at(D3, 20), **order(status="Processing"))
    bronze.refresh("orders")
    assert [r["status"] for r in bronze.silver("orders")] == ["Shipped"]


def test_ties_break_on_processed_at_then_object_then_line(bronze: Bronze) -> None:
    bronze.add("orders", D1, processed_at=at(D1, 1), **order(order_id=1, status="Processing"))
    bronze.add("orders", D1, processed_at=at(D1, 2), **order(order_id=1, status="Shipped"))
    bronze.add("orders", D1, obj="b.csv", **order(order_id=2, status="Shipped"))
    bronze.add("orders", D1, obj="a.csv", **order(order_id=2, status="Processing"))
    bronze.add("orders", D1, **order(order_id=3, status="Processing"))
    bronze.add("orders", D1, **order(order_id=3, status="Cancelled"))  # a later line
    bronze.refresh("orders")
    assert [r["status"] for r in bronze.silver("orders")] == ["Shipped", "Shipped", "Cancelled"]


def test_a_duplicated_row_appears_once_and_duplicates_never_win(bronze: Bronze) -> None:
    bronze.add("events", id=7, event_type="cart", uri="/cart")
    bronze.add("events", id=7, event_type="cart", uri="/cart", duplicate=True)
    # A duplicate flag on a later line must not make that line the latest version.
    bronze.add("events", id=8, event_type="home", uri="/home")
    bronze.add("events", id=8, event_type="purchase", uri="/purchase", duplicate=True)
    bronze.refresh("events")
    assert [(r["id"], r["event_type"]) for r in bronze.silver("events")] == [
        (7, "cart"), (8, "home")]


def test_gender_is_spelled_out_from_any_case_or_padding(bronze: Bronze) -> None:
    raw = [" m ", "F", "female", "MALE", "f ", "Male", "M", "fEMALE", None]
    for i, gender in enumerate(raw, start=1):
        bronze.add("users", id=i, email=f"u{i}@example.com", gender=gender, age=30)
    bronze.refresh("users")
    assert [r["gender"] for r in bronze.silver("users", "id")] == [
        "Male", "Female", "Female", "Male", "Female", "Male", "Male", "Female", None]


def test_an_unknown_gender_stays_visible_and_fails_the_blocking_schema(bronze: Bronze) -> None:
    bronze.add("users", id=1, email="a@example.com", gender="X")
    bronze.add("users", id=2, email="b@example.com", gender="F")
    bronze.refresh("users")
    report = validate_in_warehouse(bronze.wh, "silver.users", SILVER_TABLES["users"].schema)
    (failure,) = report.failures
    assert (failure.column, failure.check, failure.failures) == ("gender", "isin", 1)
    assert failure.sample[0]["id"] == 1


def test_a_null_email_user_is_excluded_and_counted(bronze: Bronze) -> None:
    bronze.add("users", id=1, email="ann@example.com", age=40, gender="F")
    bronze.add("users", id=2, email=None, age=33, gender="M")
    # Latest version decides: an email lost in a later version rejects the user ...
    bronze.add("users", D1, id=3, email="old@example.com", gender="M")
    bronze.add("users", D2, id=3, email=None, gender="M")
    # ... and one gained in a later version keeps it.
    bronze.add("users", D1, id=4, email=None, gender="F")
    bronze.add("users", D2, id=4, email="NEW@Example.com", gender="F")
    report = bronze.refresh("users")["users"]
    assert [(r["id"], r["email"]) for r in bronze.silver("users", "id")] == [
        (1, "ann@example.com"), (4, "new@example.com")]
    assert report.rows == 2 and report.rejects == {"email is null": 2}
    rejects = bronze.wh.query_arrow("SELECT * FROM ops.silver_rejects ORDER BY record_key")
    rows = rejects.to_pylist()
    assert [(r["table_name"], r["record_key"], r["reason"]) for r in rows] == [
        ("users", 2, "email is null"), ("users", 3, "email is null")]
    assert json.loads(rows[1]["record"])["landing_date"] == str(D2)
    assert rows[1]["source_object"] == f"users/date={D2}/batch.csv"
    rec = reconcile(bronze.wh, SILVER_TABLES["users"])
    assert (rec.bronze_keys, rec.silver_rows, rec.rejected, rec.unexplained) == (4, 2, 2, 0)
    assert rec.superseded_versions == 2


def test_refresh_is_idempotent_and_replaces_the_tables_rejects(bronze: Bronze) -> None:
    bronze.add("users", id=1, email=None)
    bronze.add("users", id=2, email="b@example.com")
    first = bronze.refresh("users")["users"]
    second = bronze.refresh("users")["users"]
    assert (first.rows, first.rejects) == (second.rows, second.rejects) == (
        1, {"email is null": 1})
    # A fixed email in a new version empties the rejects of the table.
    bronze.add("users", D2, id=1, email="a@example.com")
    assert bronze.refresh("users")["users"].rejects == {}


def test_a_key_only_in_duplicate_rows_is_unexplained(bronze: Bronze) -> None:
    bronze.add("products", id=1, category="Jeans")
    bronze.add("products", id=2, category="Jeans", duplicate=True)  # cannot happen in bronze
    bronze.refresh("products")
    table = SILVER_TABLES["products"]
    rec = reconcile(bronze.wh, table)
    assert (rec.bronze_keys, rec.silver_rows, rec.unexplained) == (2, 1, 1)
    result = reconcile_result(bronze.wh, table, rec)
    assert not result.passed
    assert result.metadata["missing_sample"].value == [{"id": 2}]


def test_order_item_prices_keep_their_currency_and_types(bronze: Bronze) -> None:
    bronze.add("order_items", id=1, order_id=1, product_id=1, sale_price=10.5,
               sale_price_value_type="EUR", status="rETURNED", created_at=T0, returned_at=T0)
    bronze.add("order_items", id=2, order_id=1, product_id=1, sale_price=12.0,
               sale_price_value_type=None, status="complete")
    bronze.refresh("order_items")
    rows = bronze.silver("order_items", "id")
    assert [(r["sale_price"], r["sale_price_currency"], r["status"]) for r in rows] == [
        (10.5, "EUR", "Returned"), (12.0, "USD", "Complete")]
    types = bronze.wh.query_arrow("SELECT * FROM silver.order_items LIMIT 0").schema
    assert str(types.field("sale_price").type) == "double"
    assert str(types.field("created_at").type) == "timestamp[us, tz=UTC]"
    assert "sale_price_value_type" not in types.names


def test_products_and_inventory_share_canonical_categories_and_brands(bronze: Bronze) -> None:
    for i, brand in enumerate(["Calvin Klein", "Calvin Klein", "calvin klein", "Levi's",
                               "IZOD", None], start=1):
        bronze.add("products", id=i, brand=brand, category=" tops & tees",
                   department="WOMEN ", sku="ab12" * 8, cost=3.0, cost_value_type="GBP",
                   retail_price=9.0)
    bronze.add("inventory_items", id=1, product_id=3, product_brand="CALVIN KLEIN ",
               product_category="FASHION HOODIES & SWEATSHIRTS", product_department="men",
               product_sku="cd34" * 8, cost=2.0)
    bronze.add("inventory_items", id=2, product_id=5, product_brand="Unknown Brand")
    bronze.refresh("products", "inventory_items")
    products = bronze.silver("products", "id")
    assert [p["brand"] for p in products] == ["Calvin Klein"] * 3 + ["Levi's", "IZOD", None]
    assert {(p["category"], p["department"], p["sku"]) for p in products} == {
        ("Tops & Tees", "Women", "AB12" * 8)}
    assert (products[0]["cost_currency"], products[0]["retail_price_currency"]) == ("GBP", "USD")
    items = bronze.silver("inventory_items", "id")
    assert [(i["product_brand"], i["product_category"], i["product_department"])
            for i in items] == [("Calvin Klein", "Fashion Hoodies & Sweatshirts", "Men"),
                                ("Unknown Brand", None, None)]
    assert items[0]["product_sku"] == "CD34" * 8 and items[0]["cost_currency"] == "USD"


def _variants(value: str) -> list[str]:
    # Spaces only: bronze already trims every kind of whitespace, and DuckDB's TRIM (unlike
    # BigQuery's) strips spaces alone.
    return [value, value.lower(), value.upper(), value.swapcase(), f"  {value} ", f"{value}  "]


ENUM_COLUMNS = [(t, c) for t, spec in SILVER_TABLES.items()
                for c, col in spec.schema.columns.items()
                if any(check.name == "isin" for check in col.checks)
                and not c.endswith("_currency")]


@pytest.mark.parametrize(("table", "column"), ENUM_COLUMNS,
                         ids=[f"{t}.{c}" for t, c in ENUM_COLUMNS])
def test_every_enum_value_is_canonical_from_any_case_or_padding(bronze: Bronze, table: str,
                                                                column: str) -> None:
    spec = SILVER_TABLES[table]
    (isin,) = [c for c in spec.schema.columns[column].checks if c.name == "isin"]
    allowed = list(isin.statistics["allowed_values"])
    # Bronze gender is M/F; silver spells it out: both spellings must map.
    raw = {"Male": ["M", "Male"], "Female": ["F", "Female"]} if column == "gender" else {}
    expected, key = [], count(1)
    for value in allowed:
        for spelling in raw.get(value, [value]):
            for variant in _variants(spelling):
                values = {spec.key: next(key), column: variant}
                if table == "users":
                    values["email"] = "e@example.org"  # or the row would be rejected
                bronze.add(table, **values)
                expected.append(value)
    bronze.refresh(table)
    assert [r[column] for r in bronze.silver(table, spec.key)] == expected


def test_enum_sets_follow_thelook() -> None:
    assert set(schemas.CATEGORIES) >= {"Tops & Tees", "Clothing Sets", "Socks & Hosiery"}
    assert len(schemas.CATEGORIES) == 26
    assert schemas.USER_TRAFFIC_SOURCES != schemas.EVENT_TRAFFIC_SOURCES
    assert {(t, c) for t, c in ENUM_COLUMNS} >= {
        ("users", "gender"), ("users", "traffic_source"), ("orders", "status"),
        ("products", "category"), ("products", "department"), ("events", "browser"),
        ("events", "traffic_source"), ("events", "event_type")}


def test_order_business_rules_report_violations_with_a_sample(bronze: Bronze) -> None:
    day = dt.timedelta(days=1)
    bronze.add("orders", **order(order_id=1, status="Returned", shipped_at=T0 + day,
                                 delivered_at=T0 + 2 * day, returned_at=T0 + 3 * day))
    bronze.add("orders", **order(order_id=2, status="Shipped", shipped_at=T0 - day))
    bronze.add("orders", **order(order_id=3, status="Complete", shipped_at=T0,
                                 delivered_at=T0, returned_at=T0 + day))
    bronze.add("orders", **order(order_id=4, status="returned", shipped_at=T0))
    bronze.add("orders", **order(order_id=5, status="Processing"))
    bronze.refresh("orders")
    table = SILVER_TABLES["orders"]
    results = {r.name: rule_result(bronze.wh, table, r) for r in table.rules}
    shipped, returned = results["shipped_after_created"], results["returned_at_iff_returned"]
    assert not shipped.passed and shipped.metadata["violations"].value == 1
    assert [s["order_id"] for s in shipped.metadata["failure_sample"].value] == [2]
    assert not returned.passed and returned.metadata["violations"].value == 2
    assert sorted(s["order_id"] for s in returned.metadata["failure_sample"].value) == [3, 4]
    assert shipped.severity == returned.severity == dg.AssetCheckSeverity.ERROR


def test_orphans_are_counted_and_split_by_rejected_parents(bronze: Bronze) -> None:
    bronze.add("users", id=1, email="a@example.com")
    bronze.add("users", id=2, email=None)  # rejected
    bronze.add("orders", **order(order_id=10, user_id=1))
    bronze.add("orders", **order(order_id=11, user_id=2))
    bronze.add("orders", **order(order_id=12, user_id=3))  # user never arrived
    bronze.add("orders", **order(order_id=13, user_id=3))
    bronze.add("events", id=1, user_id=None)  # anonymous: not an orphan
    bronze.add("events", id=2, user_id=1)
    bronze.refresh("users", "orders", "events")
    refs = {(r.child, r.column): r for r in REFERENCES}
    found = orphans(bronze.wh, refs["orders", "user_id"])
    assert {k: found[k] for k in ("rows_checked", "orphans", "missing_parent_keys",
                                  "parent_rejected")} == {
        "rows_checked": 4, "orphans": 3, "missing_parent_keys": 2, "parent_rejected": 1}
    assert sorted(s["order_id"] for s in found["sample"]) == [11, 12, 13]
    events = orphans(bronze.wh, refs["events", "user_id"])
    assert (events["rows_checked"], events["orphans"]) == (1, 0)


def test_num_of_item_is_compared_with_the_order_items(bronze: Bronze) -> None:
    bronze.add("orders", **order(order_id=1, num_of_item=2))
    bronze.add("orders", **order(order_id=2, num_of_item=1))
    bronze.add("orders", **order(order_id=3, num_of_item=1))  # no items at all
    for item_id, order_id in [(1, 1), (2, 1), (3, 2), (4, 2)]:
        bronze.add("order_items", id=item_id, order_id=order_id, product_id=1)
    bronze.refresh("orders", "order_items")
    found = item_count_mismatches(bronze.wh)
    assert (found["orders"], found["mismatched"], found["fewer_items"]) == (3, 2, 1)
    assert sorted((s["order_id"], s["items"]) for s in found["sample"]) == [(2, 2), (3, 0)]


def test_uniqueness_failures_come_with_a_json_safe_sample(bronze: Bronze) -> None:
    bronze.add("orders", **order(order_id=1))
    bronze.add("orders", **order(order_id=2))
    bronze.refresh("orders")
    bronze.wh.execute("CREATE TABLE silver.orders_twice AS "
                      "SELECT * FROM silver.orders UNION ALL SELECT * FROM silver.orders "
                      "WHERE order_id = 2")
    report = validate_in_warehouse(bronze.wh, "silver.orders_twice",
                                   SILVER_TABLES["orders"].schema)
    (failure,) = report.failures
    assert (failure.column, failure.check, failure.failures) == ("order_id", "unique", 1)
    assert failure.sample == [{"order_id": 2, "rows": 2}]
    dg.MetadataValue.json(failure.sample)  # Dagster accepts it (timestamps become text)


def test_execute_script_is_all_or_nothing(bronze: Bronze) -> None:
    bronze.wh.execute("CREATE TABLE ops.t AS SELECT 1 AS x")
    with pytest.raises(Exception, match="no_such_table"):
        bronze.wh.execute_script(["INSERT INTO ops.t VALUES (2)",
                                  "INSERT INTO ops.t SELECT * FROM ops.no_such_table"])
    assert bronze.wh.query_arrow("SELECT x FROM ops.t").to_pylist() == [{"x": 1}]
