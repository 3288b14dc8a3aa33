"""Pandera schemas of the seven silver tables: the contract the SQL under ``sql/silver/`` meets.

Silver is the deduplicated, typed, standardized single source of truth: one row per key
(``metadata={"key": True}``, unique and non-null), enums in their canonical spelling (the
value sets of the project's dataset notes, THELOOK.md), prices beside the ISO code of their
currency (gold converts to USD), and the bronze lineage of the version that won.

Every schema runs in the warehouse as the blocking ``pandera_schema`` check of its asset
(compiled to SQL by :mod:`ecommerce_assets.quality`) and feeds ``dagster/column_schema``.
Ranges are the dataset's documented ones; anything the real dataset contains must pass.
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Date, Series

from ecommerce_assets.bronze.schemas import CURRENCY_CODES
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

# Canonical value sets (THELOOK.md). users.traffic_source and events.traffic_source are
# different sets; event_type is lower case, the others as the shop writes them.
GENDERS = ["Male", "Female"]
DEPARTMENTS = ["Men", "Women"]
ORDER_STATUSES = ["Processing", "Shipped", "Complete", "Cancelled", "Returned"]
USER_TRAFFIC_SOURCES = ["Search", "Organic", "Facebook", "Email", "Display"]
EVENT_TRAFFIC_SOURCES = ["Email", "Adwords", "YouTube", "Facebook", "Organic"]
BROWSERS = ["Chrome", "Safari", "Firefox", "IE", "Other"]
EVENT_TYPES = ["home", "department", "product", "cart", "purchase", "cancel"]
CATEGORIES = sorted({
    "Accessories", "Active", "Blazers & Jackets", "Clothing Sets", "Dresses",
    "Fashion Hoodies & Sweatshirts", "Intimates", "Jeans", "Jumpsuits & Rompers", "Leggings",
    "Maternity", "Outerwear & Coats", "Pants", "Pants & Capris", "Plus", "Shorts", "Skirts",
    "Sleep & Lounge", "Socks", "Socks & Hosiery", "Suits", "Suits & Sport Coats", "Sweaters",
    "Swim", "Tops & Tees", "Underwear"})
SKU_PATTERN = r"^[0-9A-F]{32}$"
IPV4_PATTERN = r"^[0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]{1,3}$"
URI_PATTERN = r"^/(home|cart|purchase|cancel|product/[0-9]+|department/.+)$"


def enum(values: list[str], description: str = "", nullable: bool = True) -> object:
    return pa.Field(nullable=nullable, isin=values, description=description or None)


def currency(price: str) -> object:
    return pa.Field(nullable=False, isin=CURRENCY_CODES,
                    description=f"ISO 4217 code of {price} (USD when bronze had no marker)")


def amount(description: str) -> object:
    return pa.Field(nullable=True, ge=0, description=description)


class SilverLineage(TableModel):
    """Which bronze row won (the version columns an incremental MERGE compares), and when the
    silver row last changed."""

    source_object: Series[str] = pa.Field(description="inbox object of the winning version")
    source_line: Series[Int] = pa.Field(ge=1, description="its record number in the object")
    processed_at: Series[Timestamp] = pa.Field(description="when bronze ingested it (UTC)")
    landing_date: Series[Date] = pa.Field(description="its bronze partition")
    silver_updated_at: Series[Timestamp] = pa.Field(
        description="when this silver row was last inserted or changed (UTC): gold recomputes "
                    "the keys changed since its own last refresh")


class DistributionCenters(SilverLineage):
    id: Series[Int] = key("distribution center id")
    name: Series[str] = col()
    latitude: Series[float] = latitude()
    longitude: Series[float] = longitude()
    distribution_center_geom: Series[str] = col("WKT POINT(lon lat)")


class Products(SilverLineage):
    id: Series[Int] = key("product id")
    cost: Series[float] = amount("unit cost, in cost_currency")
    cost_currency: Series[str] = currency("cost")
    category: Series[str] = enum(CATEGORIES)
    name: Series[str] = col()
    brand: Series[str] = col("trimmed; the brand's most frequent spelling across products")
    retail_price: Series[float] = amount("list price, in retail_price_currency")
    retail_price_currency: Series[str] = currency("retail_price")
    department: Series[str] = enum(DEPARTMENTS)
    sku: Series[str] = col("32 upper-case hex characters", str_matches=SKU_PATTERN)
    distribution_center_id: Series[Int] = col(ge=1)


class Users(SilverLineage):
    id: Series[Int] = key("user id")
    first_name: Series[str] = col()
    last_name: Series[str] = col()
    email: Series[str] = required("lower case; not unique, never a key (null: rejected)")
    age: Series[Int] = col(in_range={"min_value": 12, "max_value": 70})
    gender: Series[str] = enum(GENDERS, "M/F in any case or padding, spelled out")
    state: Series[str] = col()
    street_address: Series[str] = col()
    postal_code: Series[str] = col()
    city: Series[str] = col()
    country: Series[str] = col()
    latitude: Series[float] = latitude()
    longitude: Series[float] = longitude()
    traffic_source: Series[str] = enum(USER_TRAFFIC_SOURCES)
    created_at: Series[Timestamp] = col()
    user_geom: Series[str] = col("WKT POINT(lon lat)")


class Orders(SilverLineage):
    order_id: Series[Int] = key("order id")
    user_id: Series[Int] = required()
    status: Series[str] = enum(ORDER_STATUSES, "title case", nullable=False)
    gender: Series[str] = enum(GENDERS, "copied from the user, spelled out")
    created_at: Series[Timestamp] = required()
    returned_at: Series[Timestamp] = col("set exactly when status is Returned")
    shipped_at: Series[Timestamp] = col("never before created_at")
    delivered_at: Series[Timestamp] = col()
    num_of_item: Series[Int] = col(ge=1)


class OrderItems(SilverLineage):
    id: Series[Int] = key("order item id")
    order_id: Series[Int] = required()
    user_id: Series[Int] = col()
    product_id: Series[Int] = required()
    inventory_item_id: Series[Int] = col()
    status: Series[str] = enum(ORDER_STATUSES, "title case")
    created_at: Series[Timestamp] = col()
    shipped_at: Series[Timestamp] = col("may precede created_at (items drift after orders)")
    delivered_at: Series[Timestamp] = col()
    returned_at: Series[Timestamp] = col()
    sale_price: Series[float] = amount("in sale_price_currency")
    sale_price_currency: Series[str] = currency("sale_price")


class InventoryItems(SilverLineage):
    id: Series[Int] = key("inventory item id")
    product_id: Series[Int] = required()
    created_at: Series[Timestamp] = col()
    sold_at: Series[Timestamp] = col("null while unsold")
    cost: Series[float] = amount("in cost_currency")
    cost_currency: Series[str] = currency("cost")
    product_category: Series[str] = enum(CATEGORIES)
    product_name: Series[str] = col()
    product_brand: Series[str] = col("spelled as in silver products")
    product_retail_price: Series[float] = amount("in product_retail_price_currency")
    product_retail_price_currency: Series[str] = currency("product_retail_price")
    product_department: Series[str] = enum(DEPARTMENTS)
    product_sku: Series[str] = col(str_matches=SKU_PATTERN)
    product_distribution_center_id: Series[Int] = col(ge=1)


class Events(SilverLineage):
    id: Series[Int] = key("event id")
    user_id: Series[Int] = col("null for anonymous sessions")
    sequence_number: Series[Int] = col(ge=1)
    session_id: Series[str] = col()
    created_at: Series[Timestamp] = col()
    ip_address: Series[str] = col(str_matches=IPV4_PATTERN)
    city: Series[str] = col()
    state: Series[str] = col()
    postal_code: Series[str] = col()
    browser: Series[str] = enum(BROWSERS)
    traffic_source: Series[str] = enum(EVENT_TRAFFIC_SOURCES)
    uri: Series[str] = col(str_matches=URI_PATTERN)
    event_type: Series[str] = enum(EVENT_TYPES)


MODELS: dict[str, type[SilverLineage]] = {
    "distribution_centers": DistributionCenters,
    "products": Products,
    "users": Users,
    "orders": Orders,
    "order_items": OrderItems,
    "inventory_items": InventoryItems,
    "events": Events,
}
