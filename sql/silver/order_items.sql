-- silver.order_items: one row per order item id, its latest bronze version (items follow
-- their order's status changes), typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH {latest_versions(order_items, id)}
SELECT
  CAST(id AS INT64) AS id,
  CAST(order_id AS INT64) AS order_id,
  CAST(user_id AS INT64) AS user_id,
  CAST(product_id AS INT64) AS product_id,
  CAST(inventory_item_id AS INT64) AS inventory_item_id,
  INITCAP(TRIM(status)) AS status,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(shipped_at AS TIMESTAMP) AS shipped_at,
  CAST(delivered_at AS TIMESTAMP) AS delivered_at,
  CAST(returned_at AS TIMESTAMP) AS returned_at,
  CAST(sale_price AS FLOAT64) AS sale_price,
  -- The amount stays in the currency it was written in; gold converts it to USD.
  -- Bronze leaves the code null when the value carried no marker, which means USD.
  IFNULL(sale_price_value_type, 'USD') AS sale_price_currency,
  source_object,
  source_line,
  processed_at,
  landing_date,
  CURRENT_TIMESTAMP() AS silver_updated_at,
  CAST(NULL AS STRING) AS reject_reason
FROM latest
