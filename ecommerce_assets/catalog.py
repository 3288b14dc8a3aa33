"""What the UI's catalog shows about every table asset besides its data: who owns it, tags to
filter by, and links to the code that builds it.

Tags: ``layer`` (bronze | silver | gold | embeddings | marts), ``table`` (the table's name) and
``domain`` (the part of the shop it describes), so the asset catalog and the lineage graph
can be filtered with ``tag:layer=gold`` or ``tag:domain=customers``. Owners are teams, one
per layer. Code references point at the table's SQL file, the Pandera model that is its
contract and the Python that builds it (local paths; the UI opens them in an editor).
"""

from __future__ import annotations

import functools
import inspect
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# table -> the part of the shop it describes (tables of every layer share one vocabulary).
DOMAINS: dict[str, str] = {
    "orders": "orders", "order_items": "orders", "orders_enriched": "orders",
    "daily_sales": "orders",
    "users": "customers", "users_enriched": "customers", "customer_metrics": "customers",
    "cohort_retention": "customers", "customer_profiles": "customers",
    "products": "products", "product_performance": "products", "product_catalog": "products",
    "product_clusters": "products",
    "inventory_items": "inventory", "distribution_centers": "inventory",
    "events": "web",
    "fx_rates": "finance",
    # marts: the dimensional model
    "dim_customer": "customers", "dim_product": "products", "dim_date": "calendar",
    "dim_distribution_center": "inventory", "dim_traffic_source": "web", "dim_browser": "web",
    "dim_event_type": "web", "dim_order_status": "orders",
    "fact_order_header": "orders", "fact_order_item": "orders", "fact_order": "orders",
    "fact_inventory": "inventory", "fact_user_activity": "web", "fact_sessions": "web",
    "funnel_daily": "web", "session_paths": "web",
}

OWNERS: dict[str, list[str]] = {
    "bronze": ["team:data-platform"],
    "silver": ["team:data-platform"],
    "gold": ["team:analytics"],
    "embeddings": ["team:ml"],
    "marts": ["team:analytics"],
}


def tags(layer: str, table: str) -> dict[str, str]:
    """The asset's ``layer``, ``table`` and ``domain`` tags."""
    if table not in DOMAINS:
        raise KeyError(f"{layer}/{table}: no domain in ecommerce_assets/catalog.py DOMAINS")
    return {"layer": layer, "table": table, "domain": DOMAINS[table]}


def owners(layer: str) -> list[str]:
    return list(OWNERS[layer])


def _python_reference(obj: object, label: str) -> dg.LocalFileCodeReference:
    path = inspect.getsourcefile(obj)  # type: ignore[arg-type]
    return dg.LocalFileCodeReference(file_path=path, line_number=_first_line(obj, path),
                                     label=label)


def _first_line(obj: object, path: str | None) -> int:
    """Where ``obj`` is defined (its first decorator, for a function), without
    ``inspect.getsourcelines``: that tokenizes the file at every call (0.25 s of every run
    process's code load over the assets' references)."""
    if inspect.ismodule(obj):
        return 1
    if inspect.isclass(obj):
        pattern = re.compile(rf"\s*class\s+{re.escape(obj.__name__)}\b")
        lines = _source_lines(path or "")
        return next((i for i, line in enumerate(lines, 1) if pattern.match(line)), 1)
    code = getattr(inspect.unwrap(obj), "__code__", None)  # type: ignore[arg-type]
    return code.co_firstlineno if code else 1


@functools.cache
def _source_lines(path: str) -> tuple[str, ...]:
    try:
        return tuple(Path(path).read_text().splitlines())
    except OSError:
        return ()


def code_references(*, sql: Path | None = None,
                    python: Sequence[tuple[object, str]] = ()) -> dict:
    """``dagster/code_references`` metadata: the SQL file (if any), then each (object, label)
    of ``python`` (a function or class) at the line it is defined."""
    # Code references are beta in dagster 1.13: the warning says nothing a user of this
    # project can act on, so exactly that class is silenced, here only.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.BetaWarning)
        references = [dg.LocalFileCodeReference(file_path=str(sql), line_number=1,
                                                label=f"SQL: {sql.relative_to(PROJECT_ROOT)}")
                      ] if sql else []
        references += [_python_reference(obj, label) for obj, label in python]
        value = dg.CodeReferencesMetadataValue(code_references=references)
    return {"dagster/code_references": value}
