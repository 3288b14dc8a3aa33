"""Pandera schemas of the gold tables: the contract the SQL under ``sql/gold/`` meets.

Each runs in the warehouse as the blocking ``pandera_schema`` check of its asset (compiled to
SQL by :mod:`ecommerce_assets.quality`) and feeds ``dagster/column_schema``; the column
descriptions are the data dictionary (docs/DATA_DICTIONARY.md says the same in prose).
Money is USD, rounded to the cent where it is a price or a sum of prices; rates and ratios
are unrounded fractions (0.25 = 25%).
"""

from __future__ import annotations

from typing import ClassVar

import pandera.pandas as pa
from pandera.typing import Date, Series

from ecommerce_assets.fields import (
    Int,
    TableModel,
    Timestamp,
    col,
    key,
    latitude,
    longitude,
    required,
)
from ecommerce_assets.silver.schemas import (
    CATEGORIES,
    DEPARTMENTS,
    GENDERS,
    ORDER_STATUSES,
    USER_TRAFFIC_SOURCES,
)

# cohort_retention.traffic_source: the overall rows, then one set per acquisition channel.
ALL_SOURCES = "All"
UNKNOWN_SOURCE = "Unknown"
COHORT_SEGMENTS = [ALL_SOURCES, *USER_TRAFFIC_SOURCES, UNKNOWN_SOURCE]


def share(description: str, nullable: bool = False) -> object:
    return pa.Field(nullable=nullable, in_range={"min_value": 0, "max_value": 1},
                    description=description)


class GoldModel(TableModel):
    """Base of the gold tables' models."""


class FxRates(GoldModel):
    currency: Series[str] = key("ISO 4217 code")
    rate_to_usd: Series[float] = required("USD per one unit of the currency", gt=0)
    as_of_date: Series[Date] = required("the date the rate is valid for")
    source: Series[str] = required("where the rate came from (the FxRates resource)")


class OrdersEnriched(GoldModel):
    order_item_id: Series[Int] = key("order item id")
    order_id: Series[Int] = required("the item's order (always in silver.orders)")
    user_id: Series[Int] = required("the order's user")
    product_id: Series[Int] = required("product sold")
    inventory_item_id: Series[Int] = col("inventory unit sold")
    status: Series[str] = pa.Field(nullable=False, isin=ORDER_STATUSES,
                                   description="the item's status (the order's when missing)")
    order_status: Series[str] = pa.Field(nullable=False, isin=ORDER_STATUSES,
                                         description="the order's status")
    is_revenue_item: Series[bool] = required("status is neither Cancelled nor Returned")
    order_created_at: Series[Timestamp] = required("when the order was placed (UTC)")
    sale_date: Series[Date] = required("DATE(order_created_at), UTC")
    shipped_at: Series[Timestamp] = col("item shipped (UTC)")
    delivered_at: Series[Timestamp] = col("item delivered (UTC)")
    returned_at: Series[Timestamp] = col("item returned (UTC)")
    age: Series[Int] = col("user's age", in_range={"min_value": 12, "max_value": 70})
    gender: Series[str] = pa.Field(nullable=True, isin=GENDERS, description="user's gender")
    country: Series[str] = col("user's country, as silver spells it")
    traffic_source: Series[str] = pa.Field(nullable=True, isin=USER_TRAFFIC_SOURCES,
                                           description="user's acquisition channel")
    product_name: Series[str] = col("product name (null until the product arrives)")
    category: Series[str] = pa.Field(nullable=True, isin=CATEGORIES, description="category")
    brand: Series[str] = col("brand")
    department: Series[str] = pa.Field(nullable=True, isin=DEPARTMENTS, description="Men/Women")
    sale_price: Series[float] = col("price as written, in sale_price_currency", ge=0)
    sale_price_currency: Series[str] = required("ISO 4217 code of sale_price")
    fx_rate_to_usd: Series[float] = col("gold.fx_rates rate of sale_price_currency", gt=0)
    sale_price_usd: Series[float] = col("sale_price x fx_rate_to_usd, to the cent", ge=0)
    unit_cost_usd: Series[float] = col("cost of the inventory unit sold, in USD", ge=0)


class CustomerMetrics(GoldModel):
    user_id: Series[Int] = key("a user with at least one non-cancelled order")
    email: Series[str] = col("lower case; not unique (null when the user is not in silver)")
    country: Series[str] = col("as silver spells it")
    lifetime_order_count: Series[Int] = required("non-cancelled orders", ge=1)
    total_spend: Series[float] = required("sum of sale_price_usd of revenue items", ge=0)
    avg_order_value: Series[float] = col(
        "total_spend / orders with at least one revenue item (null when none)", ge=0)
    first_order_at: Series[Timestamp] = required("first non-cancelled order (UTC)")
    last_order_at: Series[Timestamp] = required("last non-cancelled order (UTC)")
    return_rate: Series[float] = share("Returned orders / non-cancelled orders")
    days_since_last_order: Series[Int] = required(
        "as_of - DATE(last_order_at), in days; never negative (as_of is a cut-off)")
    churn_flag: Series[bool] = required("days_since_last_order > 90")


class ProductPerformance(GoldModel):
    product_id: Series[Int] = key("every silver product, and any product sold before its row "
                                  "arrived (details null)")
    name: Series[str] = col("product name")
    category: Series[str] = pa.Field(nullable=True, isin=CATEGORIES, description="category")
    brand: Series[str] = col("brand")
    department: Series[str] = pa.Field(nullable=True, isin=DEPARTMENTS, description="Men/Women")
    units_sold: Series[Int] = required("non-cancelled order items", ge=0)
    total_revenue: Series[float] = required("sum of sale_price_usd of revenue items", ge=0)
    avg_sale_price: Series[float] = col("mean sale_price_usd of the units sold", ge=0)
    return_count: Series[Int] = required("Returned order items", ge=0)
    return_rate: Series[float] = share("return_count / units_sold (null when none sold)",
                                       nullable=True)
    avg_margin_ratio: Series[float] = col(
        "mean over revenue items of (sale_price_usd - unit_cost_usd) / sale_price_usd, "
        "a fraction (0.25 = 25%)", le=1)
    inventory_turnover_ratio: Series[float] = col(
        "units_sold / inventory units on hand at the end of as_of (a unit of a cancelled "
        "item is back on hand); null when none on hand", ge=0)


class DailySales(GoldModel):
    sale_date: Series[Date] = key("DATE(order created_at), UTC")
    order_count: Series[Int] = required("non-cancelled orders", ge=0)
    total_revenue: Series[float] = required("sum of sale_price_usd of revenue items", ge=0)
    unique_customers: Series[Int] = required("users with a non-cancelled order that day", ge=0)
    new_customers: Series[Int] = required("users whose first non-cancelled order is that day",
                                          ge=0)
    avg_basket_size: Series[float] = col("order items per non-cancelled order", ge=0)


class UsersEnriched(GoldModel):
    user_id: Series[Int] = key("user id")
    first_name: Series[str] = col("as in silver")
    last_name: Series[str] = col("as in silver")
    email: Series[str] = required("lower case; not unique")
    age: Series[Int] = col("12-70", in_range={"min_value": 12, "max_value": 70})
    gender: Series[str] = pa.Field(nullable=True, isin=GENDERS, description="Male/Female")
    state: Series[str] = col("as in silver")
    street_address: Series[str] = col("as in silver")
    postal_code: Series[str] = col("as in silver")
    city: Series[str] = col("as in silver")
    country: Series[str] = col("as in silver")
    latitude: Series[float] = latitude()
    longitude: Series[float] = longitude()
    traffic_source: Series[str] = pa.Field(nullable=True, isin=USER_TRAFFIC_SOURCES,
                                           description="acquisition channel")
    created_at: Series[Timestamp] = col("sign-up time (UTC)")
    standardized_address: Series[str] = col(
        "USPS style 'DELIVERY LINE, CITY, ST 12345' (United States only) from the "
        "AddressStandardizer resource")
    churn_risk_score: Series[float] = share(
        "0.6 x min(days_since_last_order / 180, 1) + 0.25 / lifetime_order_count + "
        "0.15 x return_rate (null for users without a non-cancelled order)", nullable=True)
    churn_flag: Series[bool] = col("customer_metrics.churn_flag (null for non-customers)")


class CohortRetention(GoldModel):
    traffic_source: Series[str] = pa.Field(
        nullable=False, isin=COHORT_SEGMENTS, metadata={"key": True},
        description=f"'{ALL_SOURCES}' for the whole cohort, else the users' acquisition "
                    f"channel ('{UNKNOWN_SOURCE}' when the user is not in silver)")
    cohort_month: Series[Date] = pa.Field(
        nullable=False, metadata={"key": True},
        description="month of the first non-cancelled order (customer_metrics.first_order_at, "
                    "not the sign-up date)")
    months_since_first_order: Series[Int] = pa.Field(
        nullable=False, ge=0, metadata={"key": True},
        description="0 = the cohort month; up to the month of as_of")
    cohort_size: Series[Int] = required("customers in the cohort", ge=1)
    active_customers: Series[Int] = required(
        "cohort customers with a non-cancelled order that month", ge=0)
    retention_rate: Series[float] = share("active_customers / cohort_size (1 in month 0)")

    class Config:
        unique: ClassVar[list[str]] = [
            "traffic_source", "cohort_month", "months_since_first_order"]
