"""Column-level lineage (``dagster/column_lineage``) read from the SQL with sqlglot."""

from __future__ import annotations

import dagster as dg
import pytest

from ecommerce_assets.definitions import defs
from ecommerce_assets.embeddings.spec import EMBEDDING_TABLES
from ecommerce_assets.gold.spec import GOLD_TABLES
from ecommerce_assets.silver.spec import SILVER_TABLES
from ecommerce_assets.sqltables import column_sources

SQL_TABLES = {**{("silver", n): t for n, t in SILVER_TABLES.items()},
              **{("gold", n): t for n, t in GOLD_TABLES.items()},
              **{("embeddings", n): t for n, t in EMBEDDING_TABLES.items()}}


@pytest.fixture(scope="module")
def graph() -> dg.AssetGraph:  # type: ignore[name-defined]
    return defs.get_repository_def().asset_graph


def deps(graph, key: str) -> dict[str, set[tuple[str, str]]]:
    """column -> {(upstream asset, upstream column)} as the UI gets it."""
    lineage = graph.get(dg.AssetKey.from_user_string(key)).metadata["dagster/column_lineage"]
    return {column: {(d.asset_key.to_user_string(), d.column_name) for d in found}
            for column, found in lineage.deps_by_column.items()}


def test_a_converted_price_comes_from_the_price_and_the_rate(graph) -> None:
    # sql/gold/orders_enriched.sql: ROUND(oi.sale_price * fx.rate_to_usd, 2) AS sale_price_usd
    lineage = deps(graph, "gold/orders_enriched")
    assert lineage["sale_price_usd"] == {("silver/order_items", "sale_price"),
                                         ("gold/fx_rates", "rate_to_usd")}
    # renamed columns follow the alias back to the source name
    assert lineage["order_item_id"] == {("silver/order_items", "id")}
    assert lineage["product_name"] == {("silver/products", "name")}
    # the cost uses the second join of fx_rates (cost_fx), not the first
    assert lineage["unit_cost_usd"] == {("silver/inventory_items", "cost"),
                                        ("gold/fx_rates", "rate_to_usd")}


def test_silver_columns_come_from_bronze_through_the_ctes_and_the_star(graph) -> None:
    # silver/order_items selects from `latest` (SELECT b.* ...): the star is resolved
    lineage = deps(graph, "silver/order_items")
    assert lineage["sale_price_currency"] == {("bronze/order_items", "sale_price_value_type")}
    assert lineage["status"] == {("bronze/order_items", "status")}
    assert "reject_reason" not in lineage  # goes to ops.silver_rejects, not a silver column


def test_aggregates_and_seams(graph) -> None:
    daily = deps(graph, "gold/daily_sales")
    assert ("gold/orders_enriched", "sale_price_usd") in daily["total_revenue"]
    # the address seam is read from the default standardizer's SELECT, not the stand-in NULL
    users = deps(graph, "gold/users_enriched")
    assert ("silver/users", "street_address") in users["standardized_address"]
    # the embedding's vector comes from the columns its text is built from
    catalog = deps(graph, "embeddings/product_catalog")
    assert catalog["embedding"] == catalog["embedding_text"] == {
        ("silver/products", "category"), ("silver/products", "name")}
    assert catalog["embedding_model"] == set()


@pytest.mark.parametrize("layer_table", sorted(SQL_TABLES), ids="/".join)
def test_every_column_has_an_entry_pointing_at_real_upstream_columns(graph, layer_table) -> None:
    key = dg.AssetKey(list(layer_table))
    lineage = deps(graph, key.to_user_string())
    assert set(lineage) == set(SQL_TABLES[layer_table].schema.columns)
    upstream = graph.get(key).parent_keys
    for column, found in lineage.items():
        for asset, name in found:
            parent = dg.AssetKey.from_user_string(asset)
            assert parent in upstream, f"{key.to_user_string()}.{column} <- {asset}"
            schema = graph.get(parent).metadata["dagster/column_schema"]
            assert name in {c.name for c in schema.columns}, f"{asset}.{name} unknown"


def test_column_sources_resolve_star_ctes_and_constants() -> None:
    sql = ("WITH t AS (SELECT a.*, b.y FROM bronze.a AS a JOIN bronze.b AS b USING (id)) "
           "SELECT id, x + y AS total, `two words` AS spaced, COUNT(*) OVER () AS n, "
           "'const' AS c FROM t")
    found = column_sources(sql, {("bronze", "a"): ["id", "x", "two words"],
                                 ("bronze", "b"): ["id", "y"]})
    assert found == {"id": (("bronze", "a", "id"),),
                     "total": (("bronze", "a", "x"), ("bronze", "b", "y")),
                     "spaced": (("bronze", "a", "two words"),),
                     "n": (), "c": ()}
