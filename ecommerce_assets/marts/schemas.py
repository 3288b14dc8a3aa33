"""Pandera schemas of the marts tables: the contract the SQL under ``sql/marts/`` meets.

Each runs in the warehouse as the blocking ``pandera_schema`` check of its asset (the grain:
a unique, non-null key) and feeds ``dagster/column_schema``; the column descriptions are the
data dictionary. Every dimension has an unknown member (key -1, see
:data:`UNKNOWN_KEY`); ``dim_customer`` also an anonymous one (-2). Surrogate keys of the
SCD2 dimensions are a hash of the natural key and ``valid_from``, so a rebuild gives every
version the same key. Money is USD unless a currency column says otherwise.
"""

from __future__ import annotations

from typing import ClassVar

import pandera.pandas as pa
from pandera.typing import Date, Series

from ecommerce_assets.fields import Int, TableModel, Timestamp, col, key, required
from ecommerce_assets.silver.schemas import (
    CATEGORIES,
    DEPARTMENTS,
    EVENT_TYPES,
    GENDERS,
    ORDER_STATUSES,
)

UNKNOWN_KEY = -1  # every dimension: the parent has not landed yet (or the value is unknown)
ANONYMOUS_KEY = -2  # dim_customer: web activity without a user_id
REASONS = ["received", "sold", "returned"]
UNKNOWN = "Unknown"


def surrogate(what: str) -> object:
    return key(f"surrogate key of the {what} (-1: the unknown member)")


def reference(dimension: str, nullable: bool = False) -> object:
    return pa.Field(nullable=nullable,
                    description=f"{dimension} row (the unknown member -1 until it lands)")


def date_key(of: str) -> object:
    return required(f"dim_date.date_key of {of} (YYYYMMDD; -1 when unknown)")


def version(what: str) -> object:
    return required(f"1, 2, ... per {what} in time order (0: a special member)", ge=0)


def valid_to() -> object:
    return required("the version is valid up to this time, exclusive (UTC); 9999-12-31 "
                    "while current")


def is_current() -> object:
    return required("the latest version (exactly one per key)")


class MartModel(TableModel):
    """Base of the marts tables' models."""


class DimCustomer(MartModel):
    customer_key: Series[Int] = key("hash of customer_id and valid_from; -1 unknown, "
                                    "-2 anonymous")
    customer_id: Series[Int] = col("silver.users.id (null for the special members)")
    version: Series[Int] = version("customer")
    valid_from: Series[Timestamp] = required(
        "version 1: the sign-up time (created_at); later versions: 00:00 UTC of the day "
        "the change landed in bronze")
    valid_to: Series[Timestamp] = valid_to()
    is_current: Series[bool] = is_current()
    first_name: Series[str] = col("type 1 (current silver value)")
    last_name: Series[str] = col("type 1")
    email: Series[str] = col("type 1")
    age: Series[Int] = col("type 1", in_range={"min_value": 12, "max_value": 70})
    gender: Series[str] = pa.Field(nullable=True, isin=GENDERS, description="type 1")
    street_address: Series[str] = col("type 2 (this version's)")
    city: Series[str] = col("type 2")
    state: Series[str] = col("type 2")
    postal_code: Series[str] = col("type 2")
    country: Series[str] = col("type 2")
    traffic_source: Series[str] = col("type 2: acquisition channel")


class DimProduct(MartModel):
    product_key: Series[Int] = key("hash of product_id and valid_from; -1 unknown")
    product_id: Series[Int] = col("silver.products.id (null for the unknown member)")
    version: Series[Int] = version("product")
    valid_from: Series[Timestamp] = required(
        "version 1: 1900-01-01 (products have no creation time); later versions: 00:00 UTC "
        "of the day the change landed in bronze")
    valid_to: Series[Timestamp] = valid_to()
    is_current: Series[bool] = is_current()
    name: Series[str] = col("type 2")
    retail_price: Series[float] = col("type 2: list price as written", ge=0)
    retail_price_currency: Series[str] = col("ISO 4217 code of retail_price")
    retail_price_usd: Series[float] = col(
        "retail_price in USD (gold.fx_rates), to the cent; a move of more than 0.5% is a "
        "new version", ge=0)
    category: Series[str] = pa.Field(nullable=True, isin=CATEGORIES, description="type 1")
    brand: Series[str] = col("type 1")
    department: Series[str] = pa.Field(nullable=True, isin=DEPARTMENTS, description="type 1")
    sku: Series[str] = col("type 1")
    distribution_center_id: Series[Int] = col("type 1")


class DimDate(MartModel):
    date_key: Series[Int] = key("YYYYMMDD; -1 unknown")
    full_date: Series[Date] = col("the day (null for the unknown member)")
    year: Series[Int] = col()
    quarter: Series[Int] = col(in_range={"min_value": 1, "max_value": 4})
    month: Series[Int] = col(in_range={"min_value": 1, "max_value": 12})
    month_name: Series[str] = required("January ... ('Unknown')")
    day_of_month: Series[Int] = col(in_range={"min_value": 1, "max_value": 31})
    day_name: Series[str] = required("Monday ... ('Unknown')")
    iso_week: Series[Int] = col("ISO 8601 week", in_range={"min_value": 1, "max_value": 53})
    is_weekend: Series[bool] = col("Saturday or Sunday")


class DimDistributionCenter(MartModel):
    distribution_center_key: Series[Int] = key("the center's id (its rows never change); "
                                               "-1 unknown")
    distribution_center_id: Series[Int] = col("silver id (null for the unknown member)")
    name: Series[str] = col()
    latitude: Series[float] = col(in_range={"min_value": -90, "max_value": 90})
    longitude: Series[float] = col(in_range={"min_value": -180, "max_value": 180})


class DimTrafficSource(MartModel):
    traffic_source_key: Series[Int] = key("hash of the name; -1 unknown")
    traffic_source: Series[str] = required("as silver spells it")
    is_session_source: Series[bool] = required("occurs in silver.events.traffic_source")
    is_acquisition_channel: Series[bool] = required("occurs in silver.users.traffic_source")


class DimBrowser(MartModel):
    browser_key: Series[Int] = key("hash of the name; -1 unknown")
    browser: Series[str] = required("as silver spells it")


class DimEventType(MartModel):
    event_type_key: Series[Int] = key("hash of the name; -1 unknown")
    event_type: Series[str] = pa.Field(nullable=False, isin=[*EVENT_TYPES, UNKNOWN],
                                       description="lower case, as in silver")
    funnel_step: Series[Int] = col("1 browse (home, department), 2 product, 3 cart, "
                                   "4 purchase; null for cancel",
                                   in_range={"min_value": 1, "max_value": 4})


class DimOrderStatus(MartModel):
    order_status_key: Series[Int] = key("hash of the name; -1 unknown")
    order_status: Series[str] = pa.Field(nullable=False, isin=[*ORDER_STATUSES, UNKNOWN],
                                         description="as silver spells it")
    is_revenue: Series[bool] = required("neither Cancelled nor Returned (gold's revenue rule)")
    is_final: Series[bool] = required("Complete, Cancelled or Returned")


class FactOrderHeader(MartModel):
    order_id: Series[Int] = key("order id (grain: one row per order)")
    order_date: Series[Date] = required("DATE(order_created_at), UTC: the partition")
    order_created_at: Series[Timestamp] = required("when the order was placed (UTC)")
    date_key: Series[Int] = date_key("order_date")
    customer_id: Series[Int] = required("the order's user (natural key)")
    customer_key: Series[Int] = reference("dim_customer version valid at order_created_at")
    status: Series[str] = pa.Field(nullable=False, isin=ORDER_STATUSES,
                                   description="the order's status")
    order_status_key: Series[Int] = reference("dim_order_status")
    num_of_item: Series[Int] = col(ge=1)
    shipped_at: Series[Timestamp] = col()
    delivered_at: Series[Timestamp] = col()
    returned_at: Series[Timestamp] = col()
    shipping_address_street: Series[str] = col("the customer version's street address")
    shipping_address_city: Series[str] = col()
    shipping_address_state: Series[str] = col()
    shipping_address_postal_code: Series[str] = col()
    shipping_address_country: Series[str] = col("null while the customer is unknown")


class FactOrderItem(MartModel):
    order_item_id: Series[Int] = key("order item id (grain: one row per item)")
    order_id: Series[Int] = required("the item's order (natural key, even before it lands)")
    order_key: Series[Int] = reference("fact_order_header.order_id (the order's row)")
    order_date: Series[Date] = col("DATE(order_created_at), UTC: the partition")
    order_created_at: Series[Timestamp] = col(
        "the order's created_at; the item's own until the order lands")
    date_key: Series[Int] = date_key("order_date")
    customer_id: Series[Int] = col("the order's user (the item's until the order lands)")
    customer_key: Series[Int] = reference("dim_customer version valid at order_created_at")
    product_id: Series[Int] = required("product sold")
    product_key: Series[Int] = reference("dim_product version valid at order_created_at")
    product_name: Series[str] = col("that version's name")
    inventory_item_id: Series[Int] = col("inventory unit sold")
    item_status: Series[str] = pa.Field(nullable=True, isin=ORDER_STATUSES,
                                        description="the item's status")
    order_status_key: Series[Int] = reference("dim_order_status of the order's status")
    quantity: Series[Int] = required("units (a thelook item is one unit)", ge=1)
    sale_price: Series[float] = col("price as written", ge=0)
    sale_price_currency: Series[str] = col("ISO 4217 code of sale_price")
    total_amount: Series[float] = col("quantity x sale_price in USD (gold.fx_rates), to "
                                      "the cent", ge=0)


class FactOrder(MartModel):
    order_item_id: Series[Int] = key("order item id (grain: one row per item)")
    order_id: Series[Int] = required("the item's order")
    order_date: Series[Date] = col("the partition")
    order_created_at: Series[Timestamp] = col()
    date_key: Series[Int] = date_key("order_date")
    customer_id: Series[Int] = col("the order's user")
    customer_key: Series[Int] = reference("dim_customer")
    customer_name: Series[str] = col("first and last name (null while unknown)")
    customer_email: Series[str] = col()
    customer_age: Series[Int] = col()
    customer_gender: Series[str] = pa.Field(nullable=True, isin=GENDERS, description="")
    customer_city: Series[str] = col("of the version valid at the order")
    customer_state: Series[str] = col()
    customer_country: Series[str] = col()
    customer_traffic_source: Series[str] = col("acquisition channel")
    order_status: Series[str] = pa.Field(nullable=True, isin=ORDER_STATUSES,
                                         description="null until the order lands")
    item_status: Series[str] = pa.Field(nullable=True, isin=ORDER_STATUSES, description="")
    num_of_item: Series[Int] = col()
    shipped_at: Series[Timestamp] = col("the order's")
    delivered_at: Series[Timestamp] = col("the order's")
    returned_at: Series[Timestamp] = col("the order's")
    shipping_address_country: Series[str] = col()
    product_id: Series[Int] = required()
    product_key: Series[Int] = reference("dim_product")
    product_name: Series[str] = col()
    product_category: Series[str] = pa.Field(nullable=True, isin=CATEGORIES, description="")
    product_brand: Series[str] = col()
    product_department: Series[str] = pa.Field(nullable=True, isin=DEPARTMENTS,
                                               description="")
    quantity: Series[Int] = required(ge=1)
    sale_price: Series[float] = col(ge=0)
    sale_price_currency: Series[str] = col()
    total_amount: Series[float] = col("USD", ge=0)


class FactInventory(MartModel):
    inventory_item_id: Series[Int] = pa.Field(nullable=False, metadata={"key": True},
                                              description="the unit that moved")
    reason: Series[str] = pa.Field(nullable=False, isin=REASONS, metadata={"key": True},
                                   description="received (+1), sold (-1), returned (+1)")
    movement_date: Series[Date] = required("DATE(movement_at), UTC")
    movement_at: Series[Timestamp] = required("when it moved (UTC)")
    date_key: Series[Int] = date_key("movement_date")
    product_id: Series[Int] = col()
    product_key: Series[Int] = reference("dim_product version valid at movement_at")
    distribution_center_id: Series[Int] = col()
    distribution_center_key: Series[Int] = reference("dim_distribution_center")
    quantity_change: Series[Int] = required("signed units", isin=[-1, 1])

    class Config:
        unique: ClassVar[list[str]] = ["inventory_item_id", "reason"]


class FactUserActivity(MartModel):
    event_id: Series[Int] = key("event id (grain: one row per event)")
    user_id: Series[Int] = col("null for anonymous visitors")
    customer_key: Series[Int] = reference("dim_customer version valid at the event "
                                          "(-2 anonymous)")
    session_id: Series[str] = col()
    event_date: Series[Date] = col("DATE(event_timestamp), UTC: the partition")
    event_timestamp: Series[Timestamp] = col()
    date_key: Series[Int] = date_key("event_date")
    sequence_number: Series[Int] = col("the shop's own counter within the session")
    activity_type: Series[str] = pa.Field(nullable=True, isin=EVENT_TYPES,
                                          description="silver event_type")
    event_type_key: Series[Int] = reference("dim_event_type")
    step_in_session: Series[Int] = required(
        "1, 2, ... by event_timestamp within the session (ties: sequence_number, id)", ge=1)
    page: Series[str] = col("silver uri")
    traffic_source_key: Series[Int] = reference("dim_traffic_source")
    browser_key: Series[Int] = reference("dim_browser")
    city: Series[str] = col()
    state: Series[str] = col()
    postal_code: Series[str] = col()


class FactSessions(MartModel):
    session_id: Series[str] = key("session id (grain: one row per session)")
    user_id: Series[Int] = col("of the first event")
    customer_key: Series[Int] = reference("dim_customer (of the first event)")
    session_date: Series[Date] = col("DATE(session_start), UTC: the partition")
    date_key: Series[Int] = date_key("session_date")
    session_start: Series[Timestamp] = col("first event")
    session_end: Series[Timestamp] = col("last event")
    duration_seconds: Series[Int] = col(ge=0)
    event_count: Series[Int] = required(ge=1)
    page_count: Series[Int] = required("distinct pages", ge=0)
    traffic_source: Series[str] = col("of the first event (null if unknown)")
    traffic_source_key: Series[Int] = reference("dim_traffic_source")
    browser: Series[str] = col()
    browser_key: Series[Int] = reference("dim_browser")
    landing_page: Series[str] = col("page of the first event")
    city: Series[str] = col()
    state: Series[str] = col()
    postal_code: Series[str] = col()
    funnel_step: Series[Int] = required("deepest funnel step reached (dim_event_type), "
                                        "0 if none", in_range={"min_value": 0, "max_value": 4})
    converted: Series[bool] = required("the session has a purchase event")
    path: Series[str] = required("its event types in step order, ' > ' between ('?' for "
                                 "an unknown type)")


def rate(description: str) -> object:
    return pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 1},
                    description=description)


class FunnelDaily(MartModel):
    session_date: Series[Date] = pa.Field(nullable=False, metadata={"key": True},
                                          description="day the session started (UTC)")
    traffic_source: Series[str] = pa.Field(nullable=False, metadata={"key": True},
                                           description="the session's ('Unknown' if none)")
    sessions: Series[Int] = required(ge=1)
    browse_sessions: Series[Int] = required("reached home/department or a later step", ge=0)
    product_sessions: Series[Int] = required("reached a product page or a later step", ge=0)
    cart_sessions: Series[Int] = required("reached the cart or purchased", ge=0)
    purchase_sessions: Series[Int] = required("purchased", ge=0)
    product_rate: Series[float] = rate("product_sessions / browse_sessions")
    cart_rate: Series[float] = rate("cart_sessions / product_sessions")
    purchase_rate: Series[float] = rate("purchase_sessions / cart_sessions")
    conversion_rate: Series[float] = rate("purchase_sessions / sessions")

    class Config:
        unique: ClassVar[list[str]] = ["session_date", "traffic_source"]


class SessionPaths(MartModel):
    path_rank: Series[Int] = key("1 = the most common path (ties: by path)")
    path: Series[str] = required("event types in step order, ' > ' between")
    steps: Series[Int] = required(ge=1)
    sessions: Series[Int] = required(ge=1)
    share_of_sessions: Series[float] = rate("sessions / all sessions")
    converted_sessions: Series[Int] = required("sessions of the path with a purchase", ge=0)
    conversion_rate: Series[float] = rate("converted_sessions / sessions")
