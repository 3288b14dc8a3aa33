"""The embedding SQL: the source SELECTs transpile to DuckDB (run by the asset tests), and
the BigQuery-only variants (ML.GENERATE_EMBEDDING, CREATE VECTOR INDEX, VECTOR_SEARCH) parse
with sqlglot's BigQuery dialect. They are not run: no emulator has BigQuery ML."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from ecommerce_assets.embeddings.spec import ALL_DATASETS, EMBEDDING_TABLES
from ecommerce_assets.sqltables import SQL_ROOT, render

BIGQUERY = sorted((SQL_ROOT / "embeddings" / "bigquery").glob("*.sql"))


def test_every_source_file_is_a_table() -> None:
    assert {p.stem for p in (SQL_ROOT / "embeddings").glob("*.sql")} == set(EMBEDDING_TABLES)
    for table in EMBEDDING_TABLES.values():
        assert table.source_columns[0] == table.key
        assert table.source_columns[-1] == "embedding_text"
        assert set(table.columns) == set(table.schema.columns)
        sqlglot.transpile(table.source_sql(), read="bigquery", write="duckdb")


@pytest.mark.parametrize("path", BIGQUERY, ids=lambda p: p.name)
def test_bigquery_variant_parses(path) -> None:
    sql = render(path.read_text(), ALL_DATASETS)
    assert "{" not in sql
    (tree,) = sqlglot.parse(sql, read="bigquery")
    text = sql.upper()
    if path.stem == "vector_index":
        # sqlglot keeps CREATE VECTOR INDEX as a raw command: check what it must say.
        assert isinstance(tree, exp.Command)
        assert "INDEX_TYPE = 'IVF'" in text and "DISTANCE_TYPE = 'COSINE'" in text
        assert "EMBEDDINGS.PRODUCT_CATALOG(EMBEDDING)" in text
        return
    assert not isinstance(tree, exp.Command)
    functions = {f.name.upper() for f in tree.find_all(exp.Anonymous)} | {
        type(f).__name__.upper() for f in tree.find_all(exp.Func)}
    if "VECTOR_SEARCH" in text:
        assert "VECTOR_SEARCH" in functions or "VECTORSEARCH" in functions
        assert "DISTANCE_TYPE => 'COSINE'" in text
    if "GENERATE_EMBEDDING" in text:
        assert "MODEL EMBEDDINGS.TEXT_EMBEDDING" in text


def test_every_bigquery_variant_is_listed() -> None:
    assert {p.stem for p in BIGQUERY} == {"create_model", "product_catalog_embed",
                                          "vector_index", "similar_products",
                                          "search_products"}
