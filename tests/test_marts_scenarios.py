"""The dimensional model on hand-made bronze landings, value by value: SCD type 2 versions
of a customer who moves and a product whose price changes, and facts that land before their
parents (an order item before its order, an event before its user), re-pointed once the
parent lands. Bronze -> silver -> marts run as the assets run them, on a real DuckDB."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from ecommerce_assets.bronze.spec import BRONZE_TABLES
from ecommerce_assets.gold.spec import FX_RATES_TABLE
from ecommerce_assets.marts.assets import refresh_table
from ecommerce_assets.marts.checks import scd2_violations_sql
from ecommerce_assets.marts.spec import MARTS_TABLES
from ecommerce_assets.silver.refresh import refresh_statements
from ecommerce_assets.silver.spec import SILVER_TABLES
from resources.fx_rates import StaticFxRates
from resources.warehouse import DuckDBWarehouse

UTC = dt.UTC
DAY1, DAY2, DAY3 = dt.date(2026, 11, 20), dt.date(2026, 11, 22), dt.date(2026, 11, 23)
FAR = dt.datetime(9999, 12, 31, tzinfo=UTC)


def at(day: dt.date, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


class Landings:
    """Bronze rows landed by day, loaded into a fresh DuckDB warehouse."""

    def __init__(self, path: Path) -> None:
        self.wh = DuckDBWarehouse(path=str(path))
        self.wh.ensure_schemas()
        self.rows: dict[str, list[dict]] = {name: [] for name in BRONZE_TABLES}
        self.wh.load_table(FX_RATES_TABLE, StaticFxRates().rates([]))

    def land(self, table: str, day: dt.date, **values: object) -> None:
        rows = self.rows[table]
        rows.append({**values, "is_duplicate_in_file": False,
                     "source_object": f"{table}/date={day}/batch.csv",
                     "source_line": len(rows) + 1, "processed_at": at(day, 6),
                     "landing_date": day})

    def build(self) -> None:
        """Bronze as landed so far, every silver table rebuilt, then every mart in order."""
        for name, table in BRONZE_TABLES.items():
            schema = table.arrow_schema
            columns = {f.name: [r.get(f.name) for r in self.rows[name]] for f in schema}
            self.wh.load_table(table.warehouse_table, pa.table(columns, schema=schema))
        for table in SILVER_TABLES.values():
            self.wh.execute_script([self.wh.transpile(s) for s in refresh_statements(table)])
        for table in MARTS_TABLES.values():
            refresh_table(self.wh, table)

    def query(self, sql: str) -> list[dict]:
        return self.wh.query_arrow(self.wh.transpile(sql)).to_pylist()


def user(landings: Landings, day: dt.date, uid: int, city: str, street: str,
         source: str = "Search") -> None:
    landings.land("users", day, id=uid, first_name="Ada", last_name=f"L{uid}",
                  email=f"u{uid}@example.com", age=30, gender="F", state="CA",
                  street_address=street, postal_code="94000", city=city,
                  country="United States", traffic_source=source,
                  created_at=at(dt.date(2026, 11, 1), 10))


def order(landings: Landings, day: dt.date, oid: int, uid: int, placed: dt.datetime,
          status: str = "Processing") -> None:
    landings.land("orders", day, order_id=oid, user_id=uid, status=status, gender="F",
                  created_at=placed, num_of_item=1)


def item(landings: Landings, day: dt.date, iid: int, oid: int, uid: int, pid: int,
         placed: dt.datetime, price: float = 10.0) -> None:
    landings.land("order_items", day, id=iid, order_id=oid, user_id=uid, product_id=pid,
                  inventory_item_id=iid, status="Processing", created_at=placed,
                  sale_price=price)


def product(landings: Landings, day: dt.date, pid: int, price: float,
            currency: str | None = None) -> None:
    landings.land("products", day, id=pid, cost=price / 2, category="Jeans",
                  name=f"Jean {pid}", brand="Levi's", retail_price=price,
                  retail_price_value_type=currency, department="Men", sku="A" * 32,
                  distribution_center_id=1)


def event(landings: Landings, day: dt.date, eid: int, uid: int | None, session: str,
          when: dt.datetime, event_type: str, seq: int) -> None:
    landings.land("events", day, id=eid, user_id=uid, sequence_number=seq,
                  session_id=session, created_at=when, browser="Chrome",
                  traffic_source="Email", uri="/home" if event_type == "home" else "/cart",
                  event_type=event_type)


@pytest.fixture
def landings(tmp_path: Path) -> Landings:
    return Landings(tmp_path / "w.duckdb")


def versions(landings: Landings, table: str, key: str, natural: int) -> list[dict]:
    return landings.query(f"SELECT * FROM marts.{table} WHERE {key} = {natural} "
                          f"ORDER BY version")


def test_a_customer_who_moves_has_two_versions_and_each_order_its_own(landings) -> None:
    user(landings, DAY1, 1, "Oakland", "1 First St")
    product(landings, DAY1, 7, 50.0)
    # Orders on both sides of the move, the second landing with the move itself.
    order(landings, DAY1, 10, 1, at(DAY1, 15))
    item(landings, DAY1, 100, 10, 1, 7, at(DAY1, 15))
    user(landings, DAY2, 1, "Fresno", "2 Second Ave")  # moved, landed on DAY2
    user(landings, DAY2, 1, "Fresno", "2 Second Ave")  # the same version again: no change
    order(landings, DAY2, 11, 1, at(DAY2, 9))
    item(landings, DAY2, 101, 11, 1, 7, at(DAY2, 9))
    # Unrelated to the address: a later landing with the same attributes is no new version.
    user(landings, DAY3, 1, "Fresno", "2 Second Ave")
    landings.build()

    v1, v2 = versions(landings, "dim_customer", "customer_id", 1)
    assert (v1["version"], v1["city"], v1["street_address"]) == (1, "Oakland", "1 First St")
    assert (v2["version"], v2["city"], v2["street_address"]) == (2, "Fresno", "2 Second Ave")
    # The first version from the sign-up, the second from the start of its landing day.
    assert v1["valid_from"] == at(dt.date(2026, 11, 1), 10)
    assert v1["valid_to"] == v2["valid_from"] == at(DAY2)
    assert v2["valid_to"] == FAR
    assert (v1["is_current"], v2["is_current"]) == (False, True)
    assert v1["customer_key"] != v2["customer_key"]

    headers = {r["order_id"]: r for r in landings.query(
        "SELECT * FROM marts.fact_order_header ORDER BY order_id")}
    assert headers[10]["customer_key"] == v1["customer_key"]
    assert headers[10]["shipping_address_city"] == "Oakland"
    assert headers[11]["customer_key"] == v2["customer_key"]
    assert headers[11]["shipping_address_city"] == "Fresno"
    assert [r["customer_city"] for r in landings.query(
        "SELECT customer_city FROM marts.fact_order ORDER BY order_item_id")] == [
        "Oakland", "Fresno"]
    # The blocking SCD2 check's own query finds nothing wrong.
    (row,) = landings.query(scd2_violations_sql(MARTS_TABLES["dim_customer"]))
    assert row == {"keys": 1, "keys_with_overlaps": 0, "keys_with_empty_intervals": 0,
                   "keys_without_one_current": 0}

    # A rebuild gives the same surrogate keys: facts stay stable.
    landings.build()
    again = versions(landings, "dim_customer", "customer_id", 1)
    assert [v["customer_key"] for v in again] == [v1["customer_key"], v2["customer_key"]]


def test_a_price_change_is_a_new_product_version_and_a_currency_is_not(landings) -> None:
    user(landings, DAY1, 1, "Oakland", "1 First St")
    product(landings, DAY1, 7, 50.0)
    # The same price written in euros (what the dirty batches do) is no change.
    rates = StaticFxRates().rates([]).to_pydict()
    eur = round(50.0 / rates["rate_to_usd"][rates["currency"].index("EUR")], 2)
    product(landings, DAY2, 7, eur, "EUR")
    product(landings, DAY3, 7, 60.0)  # +20%
    order(landings, DAY1, 10, 1, at(DAY1, 15))
    item(landings, DAY1, 100, 10, 1, 7, at(DAY1, 15), 50.0)
    order(landings, DAY3, 11, 1, at(DAY3, 12))
    item(landings, DAY3, 101, 11, 1, 7, at(DAY3, 12), 60.0)
    landings.build()

    v1, v2 = versions(landings, "dim_product", "product_id", 7)
    assert (v1["retail_price_usd"], v2["retail_price_usd"]) == (50.0, 60.0)
    assert v1["valid_to"] == v2["valid_from"] == at(DAY3)
    keys = [r["product_key"] for r in landings.query(
        "SELECT product_key FROM marts.fact_order_item ORDER BY order_item_id")]
    assert keys == [v1["product_key"], v2["product_key"]]


def test_late_facts_point_at_the_unknown_member_until_the_parent_lands(landings) -> None:
    user(landings, DAY1, 1, "Oakland", "1 First St")
    product(landings, DAY1, 7, 50.0)
    # DAY2: an item whose order lands a day later, and events of a user not landed yet.
    item(landings, DAY2, 100, 12, 1, 7, at(DAY2, 8))
    event(landings, DAY2, 500, 2, "s-2", at(DAY2, 8), "home", 1)
    event(landings, DAY2, 501, 2, "s-2", at(DAY2, 8, 1), "cart", 2)
    event(landings, DAY2, 502, None, "s-anon", at(DAY2, 9), "home", 1)
    landings.build()

    (late_item,) = landings.query("SELECT * FROM marts.fact_order_item")
    assert (late_item["order_id"], late_item["order_key"], late_item["order_status_key"]) == (
        12, -1, -1)
    assert late_item["order_date"] == DAY2  # dated by the item until the order lands
    activity = {r["event_id"]: r for r in landings.query(
        "SELECT * FROM marts.fact_user_activity")}
    assert activity[500]["customer_key"] == activity[501]["customer_key"] == -1
    assert activity[502]["customer_key"] == -2  # anonymous, never re-pointed
    (session,) = landings.query("SELECT * FROM marts.fact_sessions WHERE session_id = 's-2'")
    assert session["customer_key"] == -1
    unknown = landings.query("SELECT * FROM marts.dim_customer WHERE customer_key = -1")
    assert [r["first_name"] for r in unknown] == ["Unknown"]

    # DAY3: the parents land; the next build re-points every late fact.
    order(landings, DAY3, 12, 1, at(DAY2, 7, 59), status="Shipped")
    user(landings, DAY3, 2, "Austin", "3 Third Rd")
    landings.build()

    (late_item,) = landings.query("SELECT * FROM marts.fact_order_item")
    (shipped,) = landings.query(
        "SELECT order_status_key FROM marts.dim_order_status WHERE order_status = 'Shipped'")
    assert (late_item["order_key"], late_item["order_status_key"]) == (
        12, shipped["order_status_key"])
    assert late_item["order_created_at"] == at(DAY2, 7, 59)  # now the order's time
    (v2,) = versions(landings, "dim_customer", "customer_id", 2)
    activity = {r["event_id"]: r for r in landings.query(
        "SELECT * FROM marts.fact_user_activity")}
    assert activity[500]["customer_key"] == activity[501]["customer_key"] == v2["customer_key"]
    assert activity[502]["customer_key"] == -2
    (session,) = landings.query("SELECT * FROM marts.fact_sessions WHERE session_id = 's-2'")
    assert session["customer_key"] == v2["customer_key"]


def test_ddl_files_are_generated_from_the_specs_and_run(tmp_path: Path) -> None:
    from ecommerce_assets.marts.spec import MARTS_DATASETS, ddl_layouts
    from ecommerce_assets.sqltables import render

    layouts = ddl_layouts()
    assert {layout.name for layout in layouts} == set(MARTS_TABLES)
    wh = DuckDBWarehouse(path=str(tmp_path / "ddl.duckdb"))
    wh.ensure_schemas(("marts",))
    for layout in layouts:
        text = layout.path.read_text()
        assert text == layout.sql(), f"{layout.path}: run python -m ecommerce_assets.marts.spec"
        wh.execute(wh.transpile(render(text, MARTS_DATASETS).strip().rstrip(";")))
    header = MARTS_TABLES["fact_order_header"]
    assert "PARTITION BY order_date\nCLUSTER BY shipping_address_country, status" in (
        header.sql_path.parents[1] / "ddl" / "marts" / "fact_order_header.sql").read_text()
    found = wh.query_arrow("SELECT * FROM marts.fact_user_activity LIMIT 0").column_names
    assert found == list(MARTS_TABLES["fact_user_activity"].schema.columns)


def test_the_blocking_checks_catch_a_dangling_key_and_overlapping_versions(landings) -> None:
    from ecommerce_assets.marts.checks import materialization_checks

    user(landings, DAY1, 1, "Oakland", "1 First St")
    user(landings, DAY2, 1, "Fresno", "2 Second Ave")
    product(landings, DAY1, 7, 50.0)
    order(landings, DAY1, 10, 1, at(DAY1, 15))
    item(landings, DAY1, 100, 10, 1, 7, at(DAY1, 15))
    item(landings, DAY1, 101, 99, 1, 7, at(DAY1, 16))  # its order never lands: -1, legal
    landings.build()
    items, customers = MARTS_TABLES["fact_order_item"], MARTS_TABLES["dim_customer"]
    assert all(r.passed for r in materialization_checks(landings.wh, items))
    assert all(r.passed for r in materialization_checks(landings.wh, customers))

    landings.wh.execute("UPDATE marts.fact_order_item SET product_key = 12345 "
                        "WHERE order_item_id = 100")
    # The first version now ends after the second starts, and both claim to be current.
    landings.wh.execute("UPDATE marts.dim_customer SET valid_to = TIMESTAMPTZ '2026-11-23', "
                        "is_current = TRUE WHERE customer_id = 1 AND version = 1")
    failed = {r.check_name: r for r in materialization_checks(landings.wh, items)
              if not r.passed}
    assert list(failed) == ["references_dim_product_product_key"]
    sample = failed["references_dim_product_product_key"].metadata["failure_sample"].data
    assert [r["order_item_id"] for r in sample] == [100]
    scd2 = {r.check_name: r for r in materialization_checks(landings.wh, customers)}
    assert not scd2["scd2_valid_intervals"].passed
    assert scd2["scd2_valid_intervals"].metadata["keys_with_overlaps"].value == 1
    assert scd2["scd2_valid_intervals"].metadata["keys_without_one_current"].value == 1
