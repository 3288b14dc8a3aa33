-- silver.orders: one row per order_id, its latest bronze version (an order is re-sent as it
-- moves Processing -> Shipped -> Complete), typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH {latest_versions(orders, order_id)}
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
  CURRENT_TIMESTAMP() AS silver_updated_at,
  CAST(NULL AS STRING) AS reject_reason
FROM latest
