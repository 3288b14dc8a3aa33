"""Gold table specs: a Pandera model, a SQL file, and the few things a table needs beyond them.

Each ``sql/gold/<table>.sql`` is one SELECT in BigQuery Standard SQL over silver and other gold
tables (placeholders ``{silver}``, ``{gold}``, and ``{as_of}`` for the reporting date); its
lineage comes from the SQL. A *seam* is a CTE whose body a resource supplies at refresh time
(the address standardizer of ``users_enriched``); a *report* is rendered from the refreshed
table (the heatmap of ``cohort_retention``). ``fx_rates`` has no SQL: it is loaded from the
``FxRates`` resource (:mod:`ecommerce_assets.gold.fx`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ecommerce_assets.gold import schemas
from ecommerce_assets.sqltables import DATASETS, Rule, SqlTable
from resources.keys import validate_identifier


@dataclass(frozen=True)
class Seam:
    """The CTE ``cte`` of a gold SELECT gets its body from the resource ``resource_key``:
    ``resource.select_sql(<source table>)``, rows of ``(key, value)``, one per source row
    (``source_key``). The resource reads only the ``inputs`` columns of a source row: its value
    is cached by them between refreshes (:mod:`ecommerce_assets.gold.seam_cache`)."""

    cte: str
    resource_key: str
    source_dataset: str
    source_table: str
    inputs: tuple[str, ...]
    key: str = "user_id"
    value: str = "standardized_address"
    source_key: str = "id"

    def __post_init__(self) -> None:
        for name in (self.cte, self.resource_key, self.source_table, *self.inputs, self.key,
                     self.value, self.source_key):
            validate_identifier(name)

    @property
    def source(self) -> str:
        return f"{DATASETS[self.source_dataset]}.{self.source_table}"


@dataclass(frozen=True)
class GoldTable(SqlTable):
    layer = "gold"
    description: str = ""
    seams: tuple[Seam, ...] = ()
    report: str | None = None  # a key of ecommerce_assets.gold.assets.REPORTS


FX_RATES_TABLE = f"{DATASETS['gold']}.fx_rates"

GOLD_TABLES: dict[str, GoldTable] = {t.name: t for t in (
    # In dependency order: a refresh of several tables runs them in this order.
    GoldTable(
        "orders_enriched", schemas.OrdersEnriched,
        rules=(Rule("every_price_converted",
                    "every sale price has an FX rate (sale_price_usd is set when sale_price is)",
                    "sale_price IS NOT NULL AND sale_price_usd IS NULL"),),
        description="One row per order item of a known order placed by `as_of` (the "
                    "reporting date, a cut-off for every gold table): the order, the user's "
                    "demographics, the product's details, the price as written and in USD "
                    "(joined with `gold.fx_rates`). Defines the revenue item every mart sums."),
    GoldTable(
        "customer_metrics", schemas.CustomerMetrics,
        rules=(Rule("first_order_not_after_last", "first_order_at <= last_order_at",
                    "first_order_at > last_order_at"),
               # as_of is a cut-off: an order after it would make recency negative.
               Rule("recency_not_negative", "days_since_last_order >= 0",
                    "days_since_last_order < 0")),
        description="One row per user with at least one non-cancelled order: orders, spend "
                    "(USD), average order value, return rate, recency against `as_of` and the "
                    "churn flag (> 90 days)."),
    GoldTable(
        "product_performance", schemas.ProductPerformance,
        rules=(Rule("returns_within_units_sold", "return_count <= units_sold",
                    "return_count > units_sold"),),
        description="One row per product: units sold, revenue and average price (USD), "
                    "returns, average margin over the unit cost sold, inventory turnover."),
    GoldTable(
        "daily_sales", schemas.DailySales,
        rules=(Rule("new_within_unique_customers", "new_customers <= unique_customers",
                    "new_customers > unique_customers"),),
        description="One row per sale date (UTC day of the order): orders, revenue (USD), "
                    "unique and new customers, items per order."),
    GoldTable(
        "users_enriched", schemas.UsersEnriched,
        seams=(Seam("standardized_addresses", "address_standardizer", "silver", "users",
                     # The columns every standardizer reads (resources/addresses.py).
                     ("street_address", "city", "state", "postal_code", "country")),),
        description="Every silver user signed up by `as_of`, with a USPS-style "
                    "standardized address (United States; "
                    "the `address_standardizer` resource), a churn risk score in [0, 1] and "
                    "the churn flag."),
    GoldTable(
        "cohort_retention", schemas.CohortRetention,
        rules=(Rule("month_zero_is_the_whole_cohort",
                    "in month 0 every cohort member ordered (retention_rate = 1)",
                    "months_since_first_order = 0 AND active_customers <> cohort_size"),),
        report="heatmap",
        description="Monthly cohorts by first order month (the month of `first_order_at`, "
                    "the first non-cancelled order, not the sign-up date): cohort size and "
                    "the share ordering "
                    "in each month after, overall (`traffic_source = 'All'`) and by "
                    "acquisition channel, up to the month of `as_of`. Renders a heatmap."),
)}
