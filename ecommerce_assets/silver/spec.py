"""Silver table specs: a Pandera model, a SQL file, and what is derived from the two.

Each ``sql/silver/<table>.sql`` is one SELECT in BigQuery Standard SQL. Dataset names are
written as placeholders, ``{bronze}``, ``{silver}`` and ``{ops}`` (the only ones; no other
braces are interpreted), and :func:`render` replaces them with validated dataset names. The
SELECT returns the silver columns plus ``reject_reason``: NULL for a row that goes to silver,
otherwise the reason it goes to ``ops.silver_rejects`` instead. The bronze tables an asset
depends on are read from the SQL itself, so lineage cannot drift from the query.

The per-table business rules (seed 004's "business rule screens") and the references
between tables ("structure screens") are data here too; :mod:`ecommerce_assets.silver.checks`
turns them into asset checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandera.pandas as pandera
import sqlglot
from sqlglot import exp

from ecommerce_assets.silver.schemas import MODELS, SilverLineage
from resources.keys import validate_identifier

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "silver"
LINEAGE_COLUMNS: tuple[str, ...] = tuple(SilverLineage.to_schema().columns)
REJECT_COLUMN = "reject_reason"
DATASETS: dict[str, str] = {"bronze": "bronze", "silver": "silver", "ops": "ops"}
REJECTS_TABLE = f"{DATASETS['ops']}.silver_rejects"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def render(sql: str, datasets: dict[str, str] | None = None) -> str:
    """Replace ``{bronze}``-style placeholders with (validated) dataset names."""
    names = {**DATASETS, **(datasets or {})}

    def substitute(match: re.Match) -> str:
        if match[1] not in names:
            raise KeyError(f"unknown placeholder {{{match[1]}}} (known: {sorted(names)})")
        return validate_identifier(names[match[1]])

    return _PLACEHOLDER.sub(substitute, sql)


@dataclass(frozen=True)
class Rule:
    """A business rule on one silver table: ``violation`` is a BigQuery SQL predicate that is
    TRUE on a row breaking it. Blocking rules fail with ERROR severity, others warn."""

    name: str
    description: str
    violation: str
    blocking: bool = True


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
class SilverTable:
    name: str
    model: type[SilverLineage]
    rules: tuple[Rule, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.name)  # it names a SQL file and a table
        validate_identifier(self.key)

    @cached_property
    def schema(self) -> pandera.DataFrameSchema:
        """The Pandera schema, business columns first and lineage columns last."""
        schema = self.model.to_schema()
        order = [c for c in schema.columns if c not in LINEAGE_COLUMNS] + list(LINEAGE_COLUMNS)
        return schema.select_columns(order)

    @cached_property
    def key(self) -> str:
        (key,) = [n for n, c in self.schema.columns.items() if (c.metadata or {}).get("key")]
        return key

    @property
    def sql_path(self) -> Path:
        return SQL_DIR / f"{self.name}.sql"

    def select_sql(self, datasets: dict[str, str] | None = None) -> str:
        """The table's SELECT (BigQuery SQL), placeholders rendered, no trailing ';'."""
        return render(self.sql_path.read_text(), datasets).strip().rstrip(";").strip()

    @cached_property
    def bronze_tables(self) -> tuple[str, ...]:
        """The bronze tables the SELECT reads, in the order they first appear."""
        tree = sqlglot.parse_one(self.select_sql(), read="bigquery")
        found = [t.name for t in tree.find_all(exp.Table) if t.db == DATASETS["bronze"]]
        return tuple(dict.fromkeys(found))

    @cached_property
    def can_reject(self) -> bool:
        """False when the SELECT's ``reject_reason`` is a constant NULL: no rejects to write."""
        tree = sqlglot.parse_one(self.select_sql(), read="bigquery")
        (reason,) = [e for e in tree.expressions if e.alias_or_name == REJECT_COLUMN]
        value = reason.unalias()
        return not (isinstance(value, exp.Cast) and isinstance(value.this, exp.Null))

    @property
    def warehouse_table(self) -> str:
        return f"{DATASETS['silver']}.{self.name}"


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
