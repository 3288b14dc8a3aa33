"""Marts table specs: a Pandera model, a SQL file, its BigQuery layout and what it references.

Each ``sql/marts/<table>.sql`` is one SELECT in BigQuery Standard SQL over bronze, silver,
gold and other marts tables (placeholders ``{bronze}``, ``{silver}``, ``{gold}``,
``{marts}``); its lineage comes from the SQL. Every table is rebuilt whole on each refresh
(``CREATE OR REPLACE TABLE … AS``), which re-points a late fact at its dimension row once
that row has landed. The tables live in the ``marts`` dataset.

Layout (seed 001): each fact is partitioned by its date and clustered for its questions;
``python -m ecommerce_assets.marts.spec`` writes ``sql/ddl/marts/`` from it, where the BigQuery
warehouse finds the ``PARTITION BY … CLUSTER BY …`` it adds to the refresh's statement.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ecommerce_assets.marts import schemas
from ecommerce_assets.sqltables import DATASETS, Rule, SqlTable
from resources.keys import validate_identifier

MARTS_DATASET = "marts"
# The placeholders a marts SQL file may use: the medallion datasets and marts itself.
MARTS_DATASETS: dict[str, str] = {**DATASETS, "marts": MARTS_DATASET}


@dataclass(frozen=True)
class Reference:
    """``column`` holds a key of the dimension ``table`` (or its unknown member): a fact row
    never points at a missing dimension row (a blocking check)."""

    column: str
    table: str
    key: str

    @property
    def check_name(self) -> str:
        return f"references_{self.table}_{self.column}"


def ref(column: str, table: str, key: str | None = None) -> Reference:
    return Reference(column, table, key or column)


@dataclass(frozen=True)
class MartTable(SqlTable):
    layer = "marts"
    placeholders = MARTS_DATASETS
    description: str = ""
    partition_by: str | None = None
    cluster_by: tuple[str, ...] = ()
    references: tuple[Reference, ...] = ()
    # SCD type 2: the natural key whose versions must not overlap, one of them current.
    scd2_key: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in (*self.cluster_by, *([self.partition_by] if self.partition_by else [])):
            if name not in self.schema.columns:
                raise KeyError(f"{self.name}: layout column {name!r} is not in its schema")

    @property
    def warehouse_table(self) -> str:
        return f"{MARTS_DATASET}.{self.name}"



def _ordered(*tables: MartTable) -> dict[str, MartTable]:
    """The tables by name, checking each reads only tables listed before it: a refresh of
    several runs them in this order."""
    seen: set[str] = set()
    for t in tables:
        for d, name in t.reads:
            if d == MARTS_DATASET and name not in seen:
                raise ValueError(f"{t.name} reads marts.{name}, which is not listed before it")
        seen.add(validate_identifier(t.name))
    return {t.name: t for t in tables}


CUSTOMER, PRODUCT = ref("customer_key", "dim_customer"), ref("product_key", "dim_product")
DATE = ref("date_key", "dim_date")
STATUS = ref("order_status_key", "dim_order_status")
SOURCE, BROWSER = ref("traffic_source_key", "dim_traffic_source"), ref("browser_key",
                                                                        "dim_browser")
SCD2_DESCRIPTION = (" Versions come from every landed bronze version (a landing day's last "
                    "one is that day's state); a new version is valid from 00:00 UTC of the "
                    "day its change landed.")

MARTS_TABLES: dict[str, MartTable] = _ordered(
    MartTable(
        "dim_customer", schemas.DimCustomer, scd2_key="customer_id",
        description="Customers, SCD type 2 on the address (street, city, state, postal "
                    "code, country) and the acquisition channel; the first version is valid "
                    "from the sign-up." + SCD2_DESCRIPTION + " Unknown member -1, anonymous "
                    "visitor -2."),
    MartTable(
        "dim_product", schemas.DimProduct, scd2_key="product_id",
        rules=(Rule("usd_price_when_priced", "a priced version has a USD price",
                    "retail_price IS NOT NULL AND retail_price_usd IS NULL"),),
        description="Products, SCD type 2 on the name and the list price (in USD, a move "
                    "over 0.5%)." + SCD2_DESCRIPTION + " Unknown member -1."),
    MartTable(
        "dim_date", schemas.DimDate,
        description="One row per day from the first to the last day any fact uses "
                    "(YYYYMMDD key), plus the unknown member -1."),
    MartTable(
        "dim_distribution_center", schemas.DimDistributionCenter,
        description="Distribution centers (their id is the key), plus the unknown member -1."),
    MartTable(
        "dim_traffic_source", schemas.DimTrafficSource,
        description="Traffic sources of the sessions and acquisition channels of the "
                    "customers, plus the unknown member -1."),
    MartTable(
        "dim_browser", schemas.DimBrowser,
        description="Browsers of the web sessions, plus the unknown member -1."),
    MartTable(
        "dim_event_type", schemas.DimEventType,
        description="Web event types with their purchase-funnel step, plus the unknown "
                    "member -1."),
    MartTable(
        "dim_order_status", schemas.DimOrderStatus,
        description="Order and item statuses (revenue, final), plus the unknown member -1 "
                    "(an item whose order has not landed)."),
    MartTable(
        "fact_order_header", schemas.FactOrderHeader,
        partition_by="order_date", cluster_by=("shipping_address_country", "status"),
        references=(CUSTOMER, STATUS, DATE),
        description="One row per order, with the shipping address of the customer version "
                    "valid when it was placed, flattened (seed 001's header). Partitioned "
                    "by order_date, clustered by shipping country and status."),
    MartTable(
        "fact_order_item", schemas.FactOrderItem,
        partition_by="order_date", cluster_by=("product_id",),
        references=(ref("order_key", "fact_order_header", "order_id"), CUSTOMER, PRODUCT,
                    STATUS, DATE),
        description="One row per order item: quantity and total_amount (USD), the product "
                    "version valid at the order. An item landed before its order points at "
                    "the unknown order (-1) until the order lands. Partitioned by "
                    "order_date, clustered by product_id."),
    MartTable(
        "fact_order", schemas.FactOrder,
        partition_by="order_date", cluster_by=("customer_id", "order_id"),
        references=(CUSTOMER, PRODUCT, DATE),
        description="One row per order item with the order's and the customer's fields: "
                    "customer-centric questions need no join. Partitioned by order_date, "
                    "clustered by customer_id and order_id."),
    MartTable(
        "fact_inventory", schemas.FactInventory,
        partition_by="movement_date", cluster_by=("product_id", "reason"),
        references=(PRODUCT, ref("distribution_center_key", "dim_distribution_center"), DATE),
        description="Stock movements of each inventory unit: received (+1), sold (-1), "
                    "returned (+1), with the signed quantity_change. Partitioned by "
                    "movement_date, clustered by product_id and reason."),
    MartTable(
        "fact_user_activity", schemas.FactUserActivity,
        partition_by="event_date", cluster_by=("user_id", "session_id"),
        references=(CUSTOMER, ref("event_type_key", "dim_event_type"), SOURCE, BROWSER, DATE),
        description="One row per web event with its step_in_session. An event of a user "
                    "who has not landed points at the unknown customer (-1) until the user "
                    "lands. Partitioned by event_date, clustered by user_id and session_id."),
    MartTable(
        "fact_sessions", schemas.FactSessions,
        partition_by="session_date", cluster_by=("traffic_source", "user_id"),
        references=(CUSTOMER, SOURCE, BROWSER, DATE),
        description="One row per web session: start, end, duration, events, pages, traffic "
                    "source, browser, landing page, location, deepest funnel step, converted. "
                    "Partitioned by session_date."),
    MartTable(
        "funnel_daily", schemas.FunnelDaily,
        partition_by="session_date", cluster_by=("traffic_source",),
        rules=(Rule("funnel_narrows", "browse >= product >= cart >= purchase sessions",
                    "browse_sessions > sessions OR product_sessions > browse_sessions "
                    "OR cart_sessions > product_sessions "
                    "OR purchase_sessions > cart_sessions"),),
        description="The purchase funnel by session day and traffic source: sessions "
                    "reaching browse (home/department), product, cart, purchase (a step "
                    "counts sessions that reached it or a later one) and each step's "
                    "conversion rate."),
    MartTable(
        "session_paths", schemas.SessionPaths,
        description="The 50 most common session paths (event types in step order), their "
                    "sessions and conversions."),
)


def ddl_layouts() -> list:
    """``sql/ddl/marts/``'s layouts, in the form ``ecommerce_assets.ddl`` writes."""
    from ecommerce_assets.ddl import TableLayout, model_schema

    return [TableLayout(MARTS_DATASET, t.name, model_schema(t.schema), t.partition_by,
                        t.cluster_by) for t in MARTS_TABLES.values()]


if __name__ == "__main__":
    for layout in ddl_layouts():
        layout.path.parent.mkdir(parents=True, exist_ok=True)
        layout.path.write_text(layout.sql())
        print(layout.path)
    sys.exit(0)
