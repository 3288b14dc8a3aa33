"""Every SQL file parses as BigQuery Standard SQL and runs, transpiled, on DuckDB.

The files run against empty bronze tables of the real bronze schemas, through the same
refresh statements the assets use; the silver tables they create must then have exactly the
columns and types of the silver Pandera schemas (gold's: tests/test_gold_sql.py).

BigQuery-only SQL lives in folders named ``bigquery`` (``sql/gold/bigquery/``: the remote
function and Gemini variants of the seed): it needs BigQuery features DuckDB does not have,
so it is only parsed here, not run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from ecommerce_assets.quality import validate_in_warehouse
from ecommerce_assets.silver.refresh import refresh_statements, refresh_table
from ecommerce_assets.silver.spec import REJECT_COLUMN, SILVER_TABLES, SQL_DIR, render
from resources.addresses import GeminiAddressStandardizer
from resources.keys import InvalidIdentifierError
from resources.warehouse import DuckDBWarehouse
from tests.conftest import REPO

BIGQUERY_ONLY = "bigquery"  # folder name of SQL that runs on BigQuery only
# The marts' SQL reads other marts tables and its own {marts} dataset: tests/test_marts.py
# runs every file of it (and tests/test_marts_scenarios.py its DDL) on the tables it reads.
MARTS = "marts"
ALL_SQL_FILES = sorted((REPO / "sql").rglob("*.sql"))
SQL_FILES = [p for p in ALL_SQL_FILES
             if not {BIGQUERY_ONLY, MARTS} & set(p.relative_to(REPO).parts)]
BIGQUERY_FILES = [p for p in ALL_SQL_FILES if BIGQUERY_ONLY in p.relative_to(REPO).parts]


def test_there_is_one_sql_file_per_silver_table() -> None:
    assert {p.stem for p in SQL_DIR.glob("*.sql")} == set(SILVER_TABLES)
    assert SQL_FILES, "no SQL files found"


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_sql_file_parses_as_bigquery_and_runs_on_duckdb(path: Path,
                                                        empty_bronze: DuckDBWarehouse) -> None:
    sql = render(path.read_text())
    statements = sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
    statements = [s for s in statements if s is not None]
    assert statements, path
    for statement in statements:
        empty_bronze.execute(statement.sql(dialect="duckdb"))  # raises on any DuckDB error


@pytest.mark.parametrize("name", SILVER_TABLES)
def test_silver_sql_returns_the_schema_columns_and_a_reject_reason(name: str) -> None:
    table = SILVER_TABLES[name]
    tree = sqlglot.parse_one(table.select_sql(), read="bigquery")
    assert isinstance(tree, exp.Select), "one SELECT per file"
    names = [e.alias_or_name for e in tree.expressions]
    assert names == [*table.schema.columns, REJECT_COLUMN]
    # The version order that decides the latest row is total and the same in every file.
    window = tree.find(exp.Window)
    order = [o.sql(dialect="bigquery") for o in window.args["order"].expressions]
    assert order == ["landing_date DESC", "processed_at DESC", "source_object DESC",
                     "source_line DESC"]
    assert window.args["partition_by"][0].name == table.key


@pytest.mark.parametrize("name", SILVER_TABLES)
def test_refreshed_empty_table_matches_its_pandera_schema(name: str,
                                                          empty_bronze: DuckDBWarehouse) -> None:
    table = SILVER_TABLES[name]
    report = refresh_table(empty_bronze, table)
    assert report.rows == 0 and report.rejects == {}
    schema_report = validate_in_warehouse(empty_bronze, table.warehouse_table, table.schema)
    assert schema_report.failures == [], schema_report.as_records()


def test_lineage_comes_from_the_sql() -> None:
    assert {n: t.bronze_tables for n, t in SILVER_TABLES.items()} == {
        "distribution_centers": ("distribution_centers",), "products": ("products",),
        "users": ("users",), "orders": ("orders",), "order_items": ("order_items",),
        # inventory_items spells brands as silver.products does: it reads bronze.products.
        "inventory_items": ("inventory_items", "products"), "events": ("events",)}
    # Only users can reject rows (null email): the others skip the rejects statement.
    assert {n for n, t in SILVER_TABLES.items() if t.can_reject} == {"users"}
    def inserts_rejects(name: str) -> bool:
        return any(s.startswith("INSERT INTO ops.silver_rejects")
                   for s in refresh_statements(SILVER_TABLES[name]))

    assert inserts_rejects("users") and not inserts_rejects("events")


def test_render_substitutes_only_known_validated_datasets() -> None:
    assert render("SELECT * FROM {bronze}.users JOIN {silver}.x ON a = '{3}'") == (
        "SELECT * FROM bronze.users JOIN silver.x ON a = '{3}'")
    assert render("FROM {bronze}.t", {"bronze": "raw_zone"}) == "FROM raw_zone.t"
    with pytest.raises(KeyError, match="unknown placeholder"):
        render("FROM {bronz}.t")
    with pytest.raises(InvalidIdentifierError):
        render("FROM {bronze}.t", {"bronze": "x; DROP TABLE y"})


def test_identifiers_of_specs_are_validated() -> None:
    from ecommerce_assets.silver.schemas import Users
    from ecommerce_assets.silver.spec import SilverTable

    with pytest.raises(InvalidIdentifierError):
        SilverTable("users; --", Users)


def test_datasets_render_into_every_statement() -> None:
    statements = refresh_statements(SILVER_TABLES["inventory_items"], {"bronze": "b2"})
    tables = {t.sql(dialect="bigquery") for s in statements
              for t in sqlglot.parse_one(s, read="bigquery").find_all(exp.Table)}
    assert {"b2.inventory_items", "b2.products", "silver.inventory_items"} <= tables
    assert not any(t.startswith("bronze.") for t in tables)



def _cte(name: str, cte: str, generalize: bool = True) -> str:
    """A CTE of a silver file as BigQuery SQL without comments, with (``generalize``) its
    own table and key names replaced by T and KEY."""
    table = SILVER_TABLES[name]
    tree = sqlglot.parse_one(table.select_sql(), read="bigquery")
    (found,) = [c.this for c in tree.find_all(exp.CTE) if c.alias == cte]

    def general(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Identifier) and node.name in (table.key, name):
            return exp.to_identifier("KEY" if node.name == table.key else "T")
        return node

    return (found.transform(general) if generalize else found).sql(dialect="bigquery",
                                                                   comments=False)


def test_the_repeated_sql_is_the_same_in_every_file() -> None:
    # Each file stands alone (it runs as is on BigQuery), so the dedupe prologue and the
    # brand spellings are written out in each; they must not drift apart.
    for cte in ("winners", "latest"):
        assert len({_cte(n, cte) for n in SILVER_TABLES}) == 1, cte
    assert (_cte("products", "brand_spellings", generalize=False)
            == _cte("inventory_items", "brand_spellings", generalize=False))


def test_bigquery_only_sql_is_set_apart_and_parses_as_bigquery() -> None:
    assert {p.name for p in BIGQUERY_FILES} >= {"convert_to_usd.sql",
                                                "fx_rates_from_convert_to_usd.sql",
                                                "standardize_addresses_gemini.sql"}
    assert not any(BIGQUERY_ONLY in p.parts for p in SQL_FILES)
    gemini = GeminiAddressStandardizer(model="my-project.llm.gemini_2_5_flash")
    texts = {p.name: p.read_text() for p in BIGQUERY_FILES}
    # Placeholders as their instructions say to fill them in.
    texts["standardize_addresses_gemini.sql"] = gemini.select_sql("silver.users")
    for name, text in texts.items():
        text = text.replace("{project}", "my-project").replace("{region}", "us")
        statements = [s for s in sqlglot.parse(render(text), read="bigquery",
                                                error_level=sqlglot.ErrorLevel.RAISE) if s]
        assert statements, name


def test_the_dedupe_is_one_macro_every_silver_file_calls() -> None:
    for name, table in SILVER_TABLES.items():
        text = table.sql_path.read_text()
        assert f"{{latest_versions({name}, {table.key})}}" in text, name
        assert "winners AS" not in text and "QUALIFY ROW_NUMBER() OVER (\n    PARTITION BY" \
            not in text, name
    # Restricted to a keys table, both CTEs read only those keys.
    sql = SILVER_TABLES["orders"].select_sql(keys_table="ops.silver_keys_orders")
    assert sql.count("order_id IN (SELECT order_id FROM ops.silver_keys_orders)") == 2
    tree = sqlglot.parse_one(sql, read="bigquery")
    assert {c.alias for c in tree.find_all(exp.CTE)} == {"winners", "latest"}


def test_macros_take_only_identifiers() -> None:
    with pytest.raises(KeyError, match="unknown macro"):
        render("WITH {latest_version(users, id)} SELECT 1")
    with pytest.raises(InvalidIdentifierError):
        render("WITH {latest_versions(users, id; DROP TABLE x)} SELECT 1")
    with pytest.raises(InvalidIdentifierError):
        render("WITH {latest_versions(users, id)} SELECT 1", keys_table="x y")
