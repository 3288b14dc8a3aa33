"""Silver table specs: a Pandera model, a SQL file, and what is derived from the two.

Each ``sql/silver/<table>.sql`` is one SELECT in BigQuery Standard SQL with dataset
placeholders (``{bronze}`` …), rendered by :func:`ecommerce_assets.sqltables.render`; its
dedupe to the latest version of each key is the macro call ``{latest_versions(table, key)}``
(:func:`ecommerce_assets.sqltables.latest_versions`), which an incremental refresh restricts
to the keys it recomputes. The SELECT returns the silver columns plus ``reject_reason``: NULL for a row that goes to silver,
otherwise the reason it goes to ``ops.silver_rejects`` instead. The bronze tables an asset
depends on are read from the SQL itself, so lineage cannot drift from the query.

The per-table business rules (seed 004's "business rule screens") and the references
between tables ("structure screens") are data here too; :mod:`ecommerce_assets.silver.checks`
turns them into asset checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandera.pandas as pandera
import sqlglot
from sqlglot import exp

from ecommerce_assets.silver.schemas import MODELS, SilverLineage
from ecommerce_assets.sqltables import DATASETS, SQL_ROOT, Rule, SqlTable, parsed_once, render
from resources.keys import validate_identifier

__all__ = ["DATASETS", "LINEAGE_COLUMNS", "REFERENCES", "REJECTS_TABLE", "REJECT_COLUMN",
           "SILVER_TABLES", "SQL_DIR", "Reference", "Rule", "SilverTable", "render"]

SQL_DIR = SQL_ROOT / "silver"
LINEAGE_COLUMNS: tuple[str, ...] = tuple(SilverLineage.to_schema().columns)
REJECT_COLUMN = "reject_reason"
REJECTS_TABLE = f"{DATASETS['ops']}.silver_rejects"


@dataclass(frozen=True)
class Reference:
    """``child.column`` -> ``parent``'s key (a structure screen; NULL references are legal)."""

    child: str
    column: str
    parent: str

    @property
    def check_name(self) -> str:
        return f"orphan_{self.column}"


@dataclass(frozen=True)
class SilverTable(SqlTable):
    layer = "silver"
    model: type[SilverLineage]

    def __post_init__(self) -> None:
        super().__post_init__()
        validate_identifier(self.key)

    @cached_property
    def schema(self) -> pandera.DataFrameSchema:
        """The Pandera schema, business columns first and lineage columns last."""
        schema = self.model.to_schema()
        order = [c for c in schema.columns if c not in LINEAGE_COLUMNS] + list(LINEAGE_COLUMNS)
        return schema.select_columns(order)

    @cached_property
    def key(self) -> str:
        (key,) = self.key_columns
        return key

    @cached_property
    def bronze_tables(self) -> tuple[str, ...]:
        """The bronze tables the SELECT reads, in the order they first appear."""
        return self.upstream("bronze")

    @cached_property
    def can_reject(self) -> bool:
        """False when the SELECT's ``reject_reason`` is a constant NULL: no rejects to write."""
        sql = self.select_sql()

        def parse() -> bool:
            tree = sqlglot.parse_one(sql, read="bigquery")
            (reason,) = [e for e in tree.expressions if e.alias_or_name == REJECT_COLUMN]
            value = reason.unalias()
            return not (isinstance(value, exp.Cast) and isinstance(value.this, exp.Null))

        return parsed_once("can_reject", sql, parse, REJECT_COLUMN)


ORDER_RULES = (
    Rule("shipped_after_created", "shipped_at is never before created_at",
         "shipped_at < created_at"),
    Rule("returned_at_iff_returned", "returned_at is set exactly when status is Returned",
         "(returned_at IS NOT NULL) <> IFNULL(status = 'Returned', FALSE)"),
)

SILVER_TABLES: dict[str, SilverTable] = {
    name: SilverTable(name, model, ORDER_RULES if name == "orders" else ())
    for name, model in MODELS.items()
}

REFERENCES: tuple[Reference, ...] = (
    Reference("order_items", "order_id", "orders"),
    Reference("order_items", "product_id", "products"),
    Reference("order_items", "inventory_item_id", "inventory_items"),
    Reference("orders", "user_id", "users"),
    Reference("inventory_items", "product_id", "products"),
    Reference("events", "user_id", "users"),
    Reference("products", "distribution_center_id", "distribution_centers"),
)
