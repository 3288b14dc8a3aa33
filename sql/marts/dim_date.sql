-- marts.dim_date: one row per calendar day from the first to the last day any fact uses,
-- plus the unknown member (-1, no date). BigQuery Standard SQL.
WITH bounds AS (
  SELECT MIN(d) AS first_day, MAX(d) AS last_day
  FROM (
    SELECT DATE(created_at) AS d FROM {silver}.orders
    UNION ALL SELECT DATE(created_at) FROM {silver}.order_items
    UNION ALL SELECT DATE(created_at) FROM {silver}.events
    UNION ALL SELECT DATE(created_at) FROM {silver}.inventory_items
    UNION ALL SELECT DATE(sold_at) FROM {silver}.inventory_items
    UNION ALL SELECT DATE(returned_at) FROM {silver}.order_items
  )
),
days AS (
  SELECT day
  FROM bounds, UNNEST(GENERATE_DATE_ARRAY(first_day, last_day)) AS day
)
SELECT
  -- A smart key (YYYYMMDD): readable, and the same on every rebuild.
  EXTRACT(YEAR FROM day) * 10000 + EXTRACT(MONTH FROM day) * 100 + EXTRACT(DAY FROM day)
    AS date_key,
  day AS full_date,
  EXTRACT(YEAR FROM day) AS year,
  EXTRACT(QUARTER FROM day) AS quarter,
  EXTRACT(MONTH FROM day) AS month,
  FORMAT_DATE('%B', day) AS month_name,
  EXTRACT(DAY FROM day) AS day_of_month,
  FORMAT_DATE('%A', day) AS day_name,
  CAST(FORMAT_DATE('%V', day) AS INT64) AS iso_week,
  FORMAT_DATE('%A', day) IN ('Saturday', 'Sunday') AS is_weekend
FROM days
UNION ALL
SELECT -1, CAST(NULL AS DATE), CAST(NULL AS INT64), CAST(NULL AS INT64), CAST(NULL AS INT64),
       'Unknown', CAST(NULL AS INT64), 'Unknown', CAST(NULL AS INT64), CAST(NULL AS BOOL)
