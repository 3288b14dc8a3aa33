-- gold.daily_sales: one row per sale_date = DATE(order created_at, UTC) with a non-cancelled
-- order or revenue.
-- BigQuery Standard SQL; {silver}/{gold} are dataset placeholders and {as_of} the run's
-- reporting date as a DATE literal (ecommerce_assets/sqltables.py): days after it are left out.
WITH orders AS (
  SELECT user_id, DATE(created_at) AS sale_date
  FROM {silver}.orders
  WHERE status <> 'Cancelled' AND DATE(created_at) <= {as_of}
),
order_days AS (
  SELECT sale_date, COUNT(*) AS order_count, COUNT(DISTINCT user_id) AS unique_customers
  FROM orders
  GROUP BY sale_date
),
new_customer_days AS (
  -- Each customer is new on the day of their first non-cancelled order.
  SELECT sale_date, COUNT(*) AS new_customers
  FROM (SELECT user_id, MIN(sale_date) AS sale_date FROM orders GROUP BY user_id)
  GROUP BY sale_date
),
item_days AS (
  SELECT
    sale_date,
    CAST(ROUND(CAST(SUM(IF(is_revenue_item, sale_price_usd, 0)) AS NUMERIC(38, 9)), 2) AS FLOAT64)
      AS total_revenue,
    COUNTIF(order_status <> 'Cancelled') AS basket_items
  FROM {gold}.orders_enriched
  WHERE is_revenue_item OR order_status <> 'Cancelled'
  GROUP BY sale_date
)
SELECT
  COALESCE(o.sale_date, i.sale_date) AS sale_date,
  IFNULL(o.order_count, 0) AS order_count,
  IFNULL(i.total_revenue, 0) AS total_revenue,
  IFNULL(o.unique_customers, 0) AS unique_customers,
  IFNULL(n.new_customers, 0) AS new_customers,
  SAFE_DIVIDE(IFNULL(i.basket_items, 0), NULLIF(o.order_count, 0)) AS avg_basket_size
FROM order_days AS o
FULL OUTER JOIN item_days AS i ON i.sale_date = o.sale_date
LEFT JOIN new_customer_days AS n ON n.sale_date = COALESCE(o.sale_date, i.sale_date)
