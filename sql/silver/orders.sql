-- silver.orders: one row per order_id, its latest bronze version (an order is re-sent as it
-- moves Processing -> Shipped -> Complete), typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH winners AS (
  -- The latest version of each key. Backfills re-ingest old landing days with a newer
  -- processed_at, so the landing day decides first; processed_at, then object and line
  -- (later in the same file = later) break ties. Ranked on the narrow version columns only.
  SELECT order_id, landing_date, source_object, source_line
  FROM {bronze}.orders
  -- Repeats of an identical raw row within one object never reach silver.
  WHERE NOT is_duplicate_in_file
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY order_id
    ORDER BY landing_date DESC, processed_at DESC, source_object DESC, source_line DESC) = 1
),
latest AS (
  -- A bronze row is identified by its landing day, object and line.
  SELECT b.*
  FROM {bronze}.orders AS b
  JOIN winners AS w USING (order_id, landing_date, source_object, source_line)
  WHERE NOT b.is_duplicate_in_file
)
SELECT
  CAST(order_id AS INT64) AS order_id,
  CAST(user_id AS INT64) AS user_id,
  -- Title case from any input case ('SHIPPED', 'sHIPPED ' -> 'Shipped').
  INITCAP(TRIM(status)) AS status,
  CASE UPPER(TRIM(gender))
    WHEN 'M' THEN 'Male'
    WHEN 'MALE' THEN 'Male'
    WHEN 'F' THEN 'Female'
    WHEN 'FEMALE' THEN 'Female'
    ELSE TRIM(gender)
  END AS gender,
  CAST(created_at AS TIMESTAMP) AS created_at,
  CAST(returned_at AS TIMESTAMP) AS returned_at,
  CAST(shipped_at AS TIMESTAMP) AS shipped_at,
  CAST(delivered_at AS TIMESTAMP) AS delivered_at,
  CAST(num_of_item AS INT64) AS num_of_item,
  source_object,
  source_line,
  processed_at,
  landing_date,
  CAST(NULL AS STRING) AS reject_reason
FROM latest
