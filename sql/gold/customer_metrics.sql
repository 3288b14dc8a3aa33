-- gold.customer_metrics: one row per user with at least one non-cancelled order.
-- BigQuery Standard SQL; {silver}/{gold} are dataset placeholders and {as_of} the run's
-- reporting date as a DATE literal (ecommerce_assets/sqltables.py).
WITH order_revenue AS (
  -- Revenue of each order: its revenue items (gold.orders_enriched defines them), in USD.
  SELECT order_id, SUM(sale_price_usd) AS revenue, COUNT(*) AS revenue_items
  FROM {gold}.orders_enriched
  WHERE is_revenue_item
  GROUP BY order_id
),
orders AS (
  SELECT o.user_id, o.status, o.created_at, r.revenue, IFNULL(r.revenue_items, 0) AS revenue_items
  FROM {silver}.orders AS o
  LEFT JOIN order_revenue AS r ON r.order_id = o.order_id
  -- as_of is a cut-off: a later order does not count, so recency is never negative.
  WHERE o.status <> 'Cancelled' AND DATE(o.created_at) <= {as_of}
),
per_user AS (
  SELECT
    user_id,
    COUNT(*) AS lifetime_order_count,
    COUNTIF(revenue_items > 0) AS orders_with_revenue,
    -- A sum of cent amounts: rounding only removes floating-point noise.
    CAST(ROUND(CAST(IFNULL(SUM(revenue), 0) AS NUMERIC(38, 9)), 2) AS FLOAT64) AS total_spend,
    MIN(created_at) AS first_order_at,
    MAX(created_at) AS last_order_at,
    COUNTIF(status = 'Returned') AS returned_orders
  FROM orders
  GROUP BY user_id
)
SELECT
  p.user_id,
  u.email,
  u.country,
  p.lifetime_order_count,
  p.total_spend,
  CAST(ROUND(CAST(SAFE_DIVIDE(p.total_spend, NULLIF(p.orders_with_revenue, 0))
                  AS NUMERIC(38, 9)), 2) AS FLOAT64) AS avg_order_value,
  p.first_order_at,
  p.last_order_at,
  p.returned_orders / p.lifetime_order_count AS return_rate,
  -- Calendar days from the last order's UTC date to the reporting date.
  DATE_DIFF({as_of}, DATE(p.last_order_at), DAY) AS days_since_last_order,
  DATE_DIFF({as_of}, DATE(p.last_order_at), DAY) > 90 AS churn_flag
FROM per_user AS p
LEFT JOIN {silver}.users AS u ON u.id = p.user_id
