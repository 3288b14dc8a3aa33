-- marts.fact_order_item: one row per order item (seed 001's item table), quantity and total
-- amount in USD, with the product version valid at the order's time. BigQuery SQL.
-- An item whose order has not landed yet (it can land a day before its order) points at
-- the unknown order (order_key -1) and status (-1), and is dated by its own created_at; the
-- next build after the order lands re-points it (every build reads silver whole).
SELECT
  oi.id AS order_item_id,
  oi.order_id,
  IFNULL(o.order_id, -1) AS order_key,
  DATE(IFNULL(o.created_at, oi.created_at)) AS order_date,
  IFNULL(o.created_at, oi.created_at) AS order_created_at,
  IFNULL(EXTRACT(YEAR FROM IFNULL(o.created_at, oi.created_at)) * 10000
         + EXTRACT(MONTH FROM IFNULL(o.created_at, oi.created_at)) * 100
         + EXTRACT(DAY FROM IFNULL(o.created_at, oi.created_at)), -1) AS date_key,
  IFNULL(o.user_id, oi.user_id) AS customer_id,
  IFNULL(c.customer_key, -1) AS customer_key,
  oi.product_id,
  IFNULL(p.product_key, -1) AS product_key,
  p.name AS product_name,
  oi.inventory_item_id,
  oi.status AS item_status,
  IFNULL(s.order_status_key, -1) AS order_status_key,
  -- A thelook order item is one unit.
  CAST(1 AS INT64) AS quantity,
  oi.sale_price,
  oi.sale_price_currency,
  -- Money rounded as gold rounds it (NUMERIC, half away from zero, on both warehouses):
  -- ROUND of a FLOAT64 differs between them on half-cent ties.
  CAST(ROUND(CAST(oi.sale_price * fx.rate_to_usd AS NUMERIC(38, 9)), 2) AS FLOAT64) AS total_amount
FROM {silver}.order_items AS oi
LEFT JOIN {silver}.orders AS o ON o.order_id = oi.order_id
LEFT JOIN {marts}.dim_customer AS c
  ON c.customer_id = IFNULL(o.user_id, oi.user_id)
  AND (IFNULL(o.created_at, oi.created_at) >= c.valid_from OR c.version = 1)
  AND IFNULL(o.created_at, oi.created_at) < c.valid_to
LEFT JOIN {marts}.dim_product AS p
  ON p.product_id = oi.product_id
  AND (IFNULL(o.created_at, oi.created_at) >= p.valid_from OR p.version = 1)
  AND IFNULL(o.created_at, oi.created_at) < p.valid_to
LEFT JOIN {marts}.dim_order_status AS s ON s.order_status = o.status
LEFT JOIN {gold}.fx_rates AS fx ON fx.currency = oi.sale_price_currency
