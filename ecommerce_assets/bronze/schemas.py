"""Pandera schemas of the seven bronze tables: the single source of their columns and types.

The ingestion agent derives everything it does from these models:
- a column's dtype picks its parser (integer, float, timestamp, text);
- ``<col>_value_type`` beside a float column marks ``<col>`` as a price whose currency
  marker is extracted (see :mod:`ecommerce_assets.bronze.cleaning`);
- ``metadata={"key": True}`` marks the key: a row whose key is null or unparseable is
  quarantined;
- column checks (``isin``, ranges, patterns) are evaluated per row at ingestion (failing rows
  are quarantined) and again in the warehouse by the blocking asset check.

Bronze is the faithful, typed record: every business column is nullable (as in BigQuery's
``thelook_ecommerce``), mixed case is kept, duplicates are flagged rather than dropped.
Columns an input adds beyond the model are loaded too (``strict = "filter"``).
"""

from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Date, Series

from ecommerce_assets.fields import Int, TableModel, Timestamp, col, key, latitude, longitude
from ecommerce_assets.formats import CURRENCY_MARKERS

CURRENCY_CODES = sorted(set(CURRENCY_MARKERS.values()))


def currency(price: str) -> object:
    return pa.Field(nullable=True, isin=CURRENCY_CODES,
                    description=f"ISO 4217 code of the currency marker found on {price} "
                                "(null when the value carried none)")


class BronzeLineage(TableModel):
    """Columns every bronze table carries after its business columns."""

    class Config:
        # Additive schema evolution: a column an input added (nullable STRING, see the
        # agent) is not the model's, so it is set aside, not a failure; the model's own
        # columns are checked as strictly as ever. quality.validate_in_warehouse reports
        # such columns as added.
        strict = "filter"

    is_duplicate_in_file: Series[bool] = pa.Field(
        description="true on the 2nd+ occurrence of an identical raw row within one object")
    extra_columns: Series[str] = col("JSON object of columns the table does not define")
    source_object: Series[str] = pa.Field(description="inbox key the row was read from")
    source_line: Series[Int] = pa.Field(
        ge=1, description="record number in the object, header = 1 (the physical line "
                          "unless a quoted value spans lines)")
    processed_at: Series[Timestamp] = pa.Field(description="ingestion time (UTC)")
    landing_date: Series[Date] = pa.Field(description="partition: the day the object landed")


class DistributionCenters(BronzeLineage):
    id: Series[Int] = key("distribution center id (1-10)", unique=False)
    name: Series[str] = col()
    latitude: Series[float] = latitude()
    longitude: Series[float] = longitude()
    distribution_center_geom: Series[str] = col("WKT POINT(lon lat)")


class Products(BronzeLineage):
    id: Series[Int] = key("product id", unique=False)
    cost: Series[float] = col("unit cost, in cost_value_type (USD when null)")
    cost_value_type: Series[str] = currency("cost")
    category: Series[str] = col()
    name: Series[str] = col()
    brand: Series[str] = col()
    retail_price: Series[float] = col("list price, in retail_price_value_type")
    retail_price_value_type: Series[str] = currency("retail_price")
    department: Series[str] = col()
    sku: Series[str] = col()
    distribution_center_id: Series[Int] = col()


class Users(BronzeLineage):
    id: Series[Int] = key("user id", unique=False)
    first_name: Series[str] = col()
    last_name: Series[str] = col()
    email: Series[str] = col("not unique: never a key")
    age: Series[Int] = col()
    gender: Series[str] = col()
    state: Series[str] = col()
    street_address: Series[str] = col()
    postal_code: Series[str] = col()
    city: Series[str] = col()
    country: Series[str] = col()
    latitude: Series[float] = latitude()
    longitude: Series[float] = longitude()
    traffic_source: Series[str] = col()
    created_at: Series[Timestamp] = col()
    user_geom: Series[str] = col("WKT POINT(lon lat)")


class Orders(BronzeLineage):
    order_id: Series[Int] = key("order id", unique=False)
    user_id: Series[Int] = col()
    status: Series[str] = col()
    gender: Series[str] = col()
    created_at: Series[Timestamp] = col()
    returned_at: Series[Timestamp] = col()
    shipped_at: Series[Timestamp] = col()
    delivered_at: Series[Timestamp] = col()
    num_of_item: Series[Int] = col()


class OrderItems(BronzeLineage):
    id: Series[Int] = key("order item id", unique=False)
    order_id: Series[Int] = col()
    user_id: Series[Int] = col()
    product_id: Series[Int] = col()
    inventory_item_id: Series[Int] = col()
    status: Series[str] = col()
    created_at: Series[Timestamp] = col()
    shipped_at: Series[Timestamp] = col()
    delivered_at: Series[Timestamp] = col()
    returned_at: Series[Timestamp] = col()
    sale_price: Series[float] = col("in sale_price_value_type (USD when null)")
    sale_price_value_type: Series[str] = currency("sale_price")


class InventoryItems(BronzeLineage):
    id: Series[Int] = key("inventory item id", unique=False)
    product_id: Series[Int] = col()
    created_at: Series[Timestamp] = col()
    sold_at: Series[Timestamp] = col("null while unsold")
    cost: Series[float] = col("in cost_value_type (USD when null)")
    cost_value_type: Series[str] = currency("cost")
    product_category: Series[str] = col()
    product_name: Series[str] = col()
    product_brand: Series[str] = col()
    product_retail_price: Series[float] = col("in product_retail_price_value_type")
    product_retail_price_value_type: Series[str] = currency("product_retail_price")
    product_department: Series[str] = col()
    product_sku: Series[str] = col()
    product_distribution_center_id: Series[Int] = col()


class Events(BronzeLineage):
    id: Series[Int] = key("event id", unique=False)
    user_id: Series[Int] = col("null for anonymous sessions")
    sequence_number: Series[Int] = col()
    session_id: Series[str] = col()
    created_at: Series[Timestamp] = col()
    ip_address: Series[str] = col()
    city: Series[str] = col()
    state: Series[str] = col()
    postal_code: Series[str] = col()
    browser: Series[str] = col()
    traffic_source: Series[str] = col()
    uri: Series[str] = col()
    event_type: Series[str] = col()


MODELS: dict[str, type[BronzeLineage]] = {
    "distribution_centers": DistributionCenters,
    "products": Products,
    "users": Users,
    "orders": Orders,
    "order_items": OrderItems,
    "inventory_items": InventoryItems,
    "events": Events,
}
