"""Pandera schemas of the embedding tables: the contract each materialization meets.

They run in the warehouse as the blocking ``pandera_schema`` check (compiled to SQL by
:mod:`ecommerce_assets.quality`) and feed ``dagster/column_schema``. The vector column is a
list of floats (DuckDB ``FLOAT[]``, BigQuery ``ARRAY<FLOAT64>``); its length and model are
checked by the tables' rules (``spec.py``).
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

from ecommerce_assets.fields import Int, TableModel, Timestamp, col, key, required
from ecommerce_assets.silver.schemas import CATEGORIES, DEPARTMENTS

HASH_PATTERN = r"^[0-9a-f]{64}$"


class EmbeddingModel(TableModel):
    """Columns every embedding table has after its own."""

    embedding_text: Series[str] = required("the text that was embedded")
    text_hash: Series[str] = pa.Field(nullable=False, str_matches=HASH_PATTERN,
                                      description="sha256 (hex) of embedding_text: a vector "
                                                  "is reused while its text hash is unchanged")
    embedding_model: Series[str] = required("the model that computed the vector; vectors of "
                                            "different models are never compared")
    embedding: Series[object] = required("the L2-normalised vector (list of floats)")
    embedded_at: Series[Timestamp] = required("when this vector was computed (UTC)")


class ProductCatalog(EmbeddingModel):
    product_id: Series[Int] = key("product id (silver.products.id)")
    name: Series[str] = col("product name")
    category: Series[str] = pa.Field(nullable=True, isin=CATEGORIES, description="category")
    brand: Series[str] = col("brand")
    department: Series[str] = pa.Field(nullable=True, isin=DEPARTMENTS,
                                       description="Men or Women")
    retail_price: Series[float] = col("retail price, in the product's currency", ge=0)


class CustomerProfiles(EmbeddingModel):
    user_id: Series[Int] = key("user id (gold.customer_metrics.user_id)")
    country: Series[str] = col("country, as silver spells it")
    lifetime_order_count: Series[Int] = required("orders that were not cancelled", ge=1)
    total_spend: Series[float] = required("revenue in USD", ge=0)
    days_since_last_order: Series[Int] = col("days from the last order to the gold as-of date")
    return_rate: Series[float] = pa.Field(nullable=True, in_range={"min_value": 0,
                                                                   "max_value": 1},
                                          description="returned / lifetime orders")
    churn_flag: Series[bool] = col("no order for more than 90 days")
    favourite_categories: Series[str] = col("up to three categories bought most, most first")


class ProductClusters(TableModel):
    product_id: Series[Int] = key("product id (embeddings.product_catalog)")
    cluster: Series[Int] = required("k-means cluster of the product's vector", ge=0)
    x: Series[float] = required("first principal axis of the vectors (the map's x)")
    y: Series[float] = required("second principal axis of the vectors (the map's y)")
    embedding_model: Series[str] = required("the model of the vectors clustered")
