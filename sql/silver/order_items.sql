-- silver.order_items: one row per order item id, its latest bronze version (items follow
-- their order's status changes), typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH winners AS (
  -- The latest version of each key. Backfills re-ingest old landing days with a newer
  -- processed_at, so the landing day decides first; processed_at, then object and line
  -- (later in the same file = later) break ties. Ranked on the narrow version columns only.
  SELECT id, landing_date, source_object, source_line
  FROM {bronze}.order_items
  -- Repeats of an identical raw row within one object never reach silver.
  WHERE NOT is_duplicate_in_file
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY id
    ORDER BY landing_date DESC, processed_at DESC, source_object DESC, source_line DESC) = 1
),
latest AS (
  -- A bronze row is identified by its landing day, object and line.
  SELECT b.*
  FROM {bronze}.order_items AS b
  JOIN winners AS w USING (id, landing_date, source_object, source_line)
  WHERE NOT b.is_duplicate_in_file
)
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
  CAST(NULL AS STRING) AS reject_reason
FROM latest
