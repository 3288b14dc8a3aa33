-- marts.dim_order_status: every status of the orders and order items, whether it counts as
-- revenue (neither Cancelled nor Returned, as in gold) and whether it is final, plus the
-- unknown member (-1: an item whose order has not landed yet).
WITH statuses AS (
  SELECT status FROM {silver}.orders WHERE status IS NOT NULL
  UNION DISTINCT
  SELECT status FROM {silver}.order_items WHERE status IS NOT NULL
)
SELECT
  CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(status)), 1, 15)) AS INT64) AS order_status_key,
  status AS order_status,
  status NOT IN ('Cancelled', 'Returned') AS is_revenue,
  status IN ('Complete', 'Cancelled', 'Returned') AS is_final
FROM statuses
UNION ALL
SELECT -1, 'Unknown', FALSE, FALSE
