"""The gold SQL files: their columns are the schemas', their lineage comes from the SQL, the
tables they build (empty) pass their Pandera schemas, and the seams splice in."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import sqlglot
from sqlglot import exp

from ecommerce_assets.gold.refresh import refresh_statements, refresh_table, splice_ctes
from ecommerce_assets.gold.spec import GOLD_TABLES
from ecommerce_assets.quality import validate_in_warehouse
from ecommerce_assets.sqltables import SQL_ROOT, render
from resources.addresses import UspsAddressStandardizer
from resources.warehouse import DuckDBWarehouse


def test_there_is_one_sql_file_per_gold_table() -> None:
    assert {p.stem for p in (SQL_ROOT / "gold").glob("*.sql")} == set(GOLD_TABLES)


@pytest.mark.parametrize("name", GOLD_TABLES)
def test_gold_sql_returns_exactly_the_schema_columns(name: str) -> None:
    table = GOLD_TABLES[name]
    tree = sqlglot.parse_one(table.select_sql(), read="bigquery")
    assert isinstance(tree, exp.Select), "one SELECT per file"
    assert [e.alias_or_name for e in tree.expressions] == list(table.schema.columns)


@pytest.mark.parametrize("name", GOLD_TABLES)
def test_refreshed_empty_gold_table_matches_its_pandera_schema(
        name: str, empty_bronze: DuckDBWarehouse) -> None:
    table = GOLD_TABLES[name]
    resources = SimpleNamespace(address_standardizer=UspsAddressStandardizer())
    report = refresh_table(empty_bronze, table, as_of=dt.date(2026, 11, 20), resources=resources)
    assert report.rows == 0
    found = validate_in_warehouse(empty_bronze, table.warehouse_table, table.schema)
    assert found.failures == [], found.as_records()


def test_lineage_comes_from_the_sql() -> None:
    reads = {n: {f"{d}.{t}" for d, t in table.reads} for n, table in GOLD_TABLES.items()}
    assert reads == {
        "orders_enriched": {"silver.order_items", "silver.orders", "silver.users",
                            "silver.products", "silver.inventory_items", "gold.fx_rates"},
        "customer_metrics": {"gold.orders_enriched", "silver.orders", "silver.users"},
        "product_performance": {"gold.orders_enriched", "silver.inventory_items",
                                "silver.products"},
        "daily_sales": {"silver.orders", "gold.orders_enriched"},
        "users_enriched": {"silver.users", "gold.customer_metrics"},
        "cohort_retention": {"gold.customer_metrics", "silver.users", "silver.orders"},
    }
    # as_of is every gold table's cut-off.
    assert {n for n, t in GOLD_TABLES.items() if t.uses_as_of} == set(GOLD_TABLES)


def test_as_of_renders_as_a_date_literal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert render("SELECT {as_of}", as_of=dt.date(2026, 1, 31)) == "SELECT DATE '2026-01-31'"
    monkeypatch.setenv("ECOMMERCE_AS_OF", "2025-12-24")
    assert render("SELECT {as_of}") == "SELECT DATE '2025-12-24'"
    monkeypatch.setenv("ECOMMERCE_AS_OF", "24/12/2025")
    with pytest.raises(ValueError, match="ECOMMERCE_AS_OF"):
        render("SELECT {as_of}")
    sql = GOLD_TABLES["customer_metrics"].select_sql(as_of=dt.date(2026, 3, 1))
    assert "DATE_DIFF(DATE '2026-03-01', DATE(p.last_order_at), DAY)" in sql


def test_the_address_seam_is_spliced_into_users_enriched() -> None:
    table = GOLD_TABLES["users_enriched"]
    plain = refresh_statements(table)[0]
    assert "CAST(NULL AS STRING) AS standardized_address" in plain  # the file's own body
    resources = SimpleNamespace(address_standardizer=UspsAddressStandardizer())
    (spliced,) = refresh_statements(table, resources=resources)
    assert spliced.startswith("CREATE OR REPLACE TABLE gold.users_enriched AS")
    tree = sqlglot.parse_one(spliced, read="bigquery")
    (cte,) = [c for c in tree.find_all(exp.CTE) if c.alias == "standardized_addresses"]
    assert "REGEXP_REPLACE" in cte.this.sql(dialect="bigquery")
    assert "CAST(NULL AS STRING) AS standardized_address" not in spliced
    with pytest.raises(KeyError, match="no CTE 'nope'"):
        splice_ctes(table.select_sql(), {"nope": "SELECT 1"})


def test_the_readme_data_dictionary_names_every_gold_column() -> None:
    doc = (SQL_ROOT.parent / "docs" / "DATA_DICTIONARY.md").read_text()
    gold = doc[doc.index("\n## Gold marts: definitions\n"):doc.index("\n## Columns of every table\n")]
    from ecommerce_assets.gold.schemas import FxRates
    from ecommerce_assets.silver.schemas import Users

    silver_users = set(Users.to_schema().columns)  # "the silver columns" of users_enriched
    tables = {"fx_rates": FxRates.to_schema(), **{n: t.schema for n, t in GOLD_TABLES.items()}}
    for name, schema in tables.items():
        assert f"**`gold.{name}`**" in gold, name
        missing = [c for c in schema.columns if f"`{c}`" not in gold
                   and not (name == "users_enriched" and c in silver_users)]
        assert missing == [], name


def test_a_composite_key_is_checked_in_the_warehouse(tmp_path) -> None:
    import pyarrow as pa

    table = GOLD_TABLES["cohort_retention"]
    wh = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    row = {"traffic_source": "All", "cohort_month": dt.date(2026, 1, 1),
           "months_since_first_order": 0, "cohort_size": 2, "active_customers": 2,
           "retention_rate": 1.0}
    other = {**row, "months_since_first_order": 1, "active_customers": 1, "retention_rate": 0.5}
    data = pa.Table.from_pylist([row, other, row, row])
    wh.load_table("gold.cohort_retention", data.cast(pa.schema([
        (f.name, pa.int64() if pa.types.is_integer(f.type) else f.type) for f in data.schema])))
    report = validate_in_warehouse(wh, "gold.cohort_retention", table.schema)
    assert report.as_records() == [{"column": "traffic_source+cohort_month+"
                                               "months_since_first_order",
                                     "check": "unique", "failures": 2}]
    assert report.failures[0].sample[0]["rows"] == 3
