"""The embedding tables: where their rows come from, their key, contract and rules.

Each table's source rows are one SELECT under ``sql/embeddings/<name>.sql`` (BigQuery SQL,
dataset placeholders) ending in an ``embedding_text`` column; the asset adds the text's
hash and its vector (:mod:`ecommerce_assets.embeddings.incremental`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandera.pandas as pandera
import sqlglot
from sqlglot import exp

from ecommerce_assets.embeddings.schemas import CustomerProfiles, ProductCatalog
from ecommerce_assets.sqltables import DATASETS, SQL_ROOT, Rule, render
from resources.keys import validate_identifier

EMBEDDINGS_DATASET = "embeddings"
# The placeholders an embedding SQL file may use, with the embeddings dataset added.
ALL_DATASETS = {**DATASETS, "embeddings": EMBEDDINGS_DATASET}
# Columns the asset appends to the source rows, in this order.
VECTOR_COLUMNS = ("text_hash", "embedding_model", "embedding", "embedded_at")


@dataclass(frozen=True)
class EmbeddingTable:
    name: str
    key: str
    model: type[pandera.DataFrameModel]
    description: str
    # Columns shown by the CLI and kept in memory by search, besides the key.
    display: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.name)
        validate_identifier(self.key)

    @cached_property
    def schema(self) -> pandera.DataFrameSchema:
        return self.model.to_schema()

    @property
    def warehouse_table(self) -> str:
        return f"{EMBEDDINGS_DATASET}.{self.name}"

    @property
    def staging_table(self) -> str:
        return f"{EMBEDDINGS_DATASET}.{self.name}__staging"

    @property
    def sql_path(self) -> Path:
        return SQL_ROOT / "embeddings" / f"{self.name}.sql"

    @property
    def sql_file(self) -> str:
        return str(self.sql_path.relative_to(SQL_ROOT.parent))

    def source_sql(self) -> str:
        """The source SELECT (BigQuery SQL), placeholders rendered, no trailing ';'."""
        sql = render(self.sql_path.read_text(), ALL_DATASETS, as_of=dt.date(2000, 1, 1))
        return sql.strip().rstrip(";").strip()

    @cached_property
    def source_columns(self) -> tuple[str, ...]:
        """Output columns of the source SELECT, in order (the last is ``embedding_text``)."""
        tree = sqlglot.parse_one(self.source_sql(), read="bigquery")
        return tuple(e.alias_or_name for e in tree.selects)

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.source_columns, *VECTOR_COLUMNS)

    @cached_property
    def reads(self) -> tuple[tuple[str, str], ...]:
        tree = sqlglot.parse_one(self.source_sql(), read="bigquery")
        found = [(t.db, t.name) for t in tree.find_all(exp.Table) if t.db in DATASETS]
        return tuple(dict.fromkeys(found))

    def rules(self, model_name: str, dim: int) -> tuple[Rule, ...]:
        """Rules for vectors of ``model_name`` (``dim`` floats); checked after each write."""
        from ecommerce_assets.quality import literal

        return (
            Rule("one_embedding_model",
                 "Every vector comes from the configured model and has its dimension",
                 f"embedding_model <> {literal(model_name)} "
                 f"OR ARRAY_LENGTH(embedding) <> {int(dim)}"),
            Rule("text_hash_matches_text", "text_hash is the sha256 of embedding_text",
                 "text_hash <> TO_HEX(SHA256(embedding_text))"),
        )


EMBEDDING_TABLES: dict[str, EmbeddingTable] = {t.name: t for t in (
    EmbeddingTable(
        "product_catalog", "product_id", ProductCatalog,
        "One row per product: its attributes, the text embedded ('category - name') and "
        "its vector. Powers similar-products and free-text product search.",
        display=("name", "category", "brand", "department", "retail_price")),
    EmbeddingTable(
        "customer_profiles", "user_id", CustomerProfiles,
        "One row per customer with an order: a behaviour sentence (orders, spend, recency, "
        "returns, churn risk, favourite categories) and its vector. Powers lookalike "
        "customers.",
        display=("country", "lifetime_order_count", "total_spend", "favourite_categories")),
)}
