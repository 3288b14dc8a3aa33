"""Table specs derived from the bronze Pandera models: what the agent needs to clean a table.

Nothing here is written by hand per table; adding a column to a model in
:mod:`ecommerce_assets.bronze.schemas` is all it takes for the agent to read, coerce and
load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandera.pandas as pandera
import pyarrow as pa

from ecommerce_assets.bronze.schemas import MODELS, BronzeLineage
from ecommerce_assets.quality import ARROW_TYPES

LINEAGE_COLUMNS: tuple[str, ...] = tuple(BronzeLineage.to_schema().columns)
VALUE_TYPE_SUFFIX = "_value_type"

# Pandera dtype (its string form) -> the agent's parser for it.
_KINDS: dict[str, str] = {"Int64": "int", "float64": "float", "datetime64[us, UTC]": "timestamp",
                          "str": "text", "bool": "bool", "date": "date"}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # int | float | price | timestamp | text | bool | date
    arrow_type: pa.DataType
    nullable: bool
    is_key: bool
    checks: tuple[pandera.Check, ...]


@dataclass(frozen=True)
class BronzeTable:
    """One bronze table: its name and its Pandera model; everything else is derived."""

    name: str
    model: type[BronzeLineage]

    @cached_property
    def schema(self) -> pandera.DataFrameSchema:
        """The Pandera schema, business columns first and lineage columns last."""
        schema = self.model.to_schema()
        order = [c for c in schema.columns if c not in LINEAGE_COLUMNS] + list(LINEAGE_COLUMNS)
        return schema.select_columns(order)  # select_columns keeps the order given

    @cached_property
    def columns(self) -> tuple[ColumnSpec, ...]:
        specs = []
        names = set(self.schema.columns)
        for name, column in self.schema.columns.items():
            kind, arrow_type = _KINDS[str(column.dtype)], ARROW_TYPES[str(column.dtype)]
            if kind == "float" and f"{name}{VALUE_TYPE_SUFFIX}" in names:
                kind = "price"
            specs.append(ColumnSpec(name, kind, arrow_type, column.nullable,
                                    bool((column.metadata or {}).get("key")),
                                    tuple(column.checks)))
        return tuple(specs)

    @cached_property
    def key(self) -> str:
        (key,) = [c.name for c in self.columns if c.is_key]
        return key

    @cached_property
    def source_columns(self) -> tuple[ColumnSpec, ...]:
        """Columns read from files: business columns minus derived ``*_value_type`` ones."""
        prices = {c.name for c in self.columns if c.kind == "price"}
        return tuple(c for c in self.columns if c.name not in LINEAGE_COLUMNS
                     and not (c.name.endswith(VALUE_TYPE_SUFFIX)
                              and c.name[: -len(VALUE_TYPE_SUFFIX)] in prices))

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, nullable=c.nullable)
                          for c in self.columns])

    @property
    def warehouse_table(self) -> str:
        return f"bronze.{self.name}"


BRONZE_TABLES: dict[str, BronzeTable] = {name: BronzeTable(name, model)
                                         for name, model in MODELS.items()}
