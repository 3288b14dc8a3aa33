-- gold.product_performance: one row per product.
-- BigQuery Standard SQL; {silver} and {gold} are dataset placeholders (ecommerce_assets/sqltables.py).
WITH sales AS (
  SELECT
    product_id,
    -- Units sold: items of any status but Cancelled (returned units were sold, then returned).
    COUNTIF(status <> 'Cancelled') AS units_sold,
    CAST(ROUND(CAST(SUM(IF(is_revenue_item, sale_price_usd, 0)) AS NUMERIC(38, 9)), 2) AS FLOAT64)
      AS total_revenue,
    AVG(IF(status <> 'Cancelled', sale_price_usd, NULL)) AS avg_sale_price,
    COUNTIF(status = 'Returned') AS return_count,
    -- Items without a known unit cost or with a zero price have no margin; AVG skips them.
    AVG(IF(is_revenue_item,
           SAFE_DIVIDE(sale_price_usd - unit_cost_usd, NULLIF(sale_price_usd, 0)),
           NULL)) AS avg_margin_pct
  FROM {gold}.orders_enriched
  GROUP BY product_id
),
stock AS (
  SELECT
    product_id,
    COUNTIF(sold_at IS NOT NULL) AS sold_units,
    COUNTIF(sold_at IS NULL) AS units_on_hand
  FROM {silver}.inventory_items
  GROUP BY product_id
),
products AS (
  SELECT id AS product_id, name, category, brand, department
  FROM {silver}.products
  UNION ALL
  -- A product sold before its own row arrived is still a product: its revenue stays in gold.
  SELECT s.product_id, NULL, NULL, NULL, NULL
  FROM sales AS s
  LEFT JOIN {silver}.products AS p ON p.id = s.product_id
  WHERE p.id IS NULL
)
SELECT
  p.product_id,
  p.name,
  p.category,
  p.brand,
  p.department,
  CAST(IFNULL(s.units_sold, 0) AS INT64) AS units_sold,
  IFNULL(s.total_revenue, 0) AS total_revenue,
  CAST(ROUND(CAST(s.avg_sale_price AS NUMERIC(38, 9)), 2) AS FLOAT64) AS avg_sale_price,
  CAST(IFNULL(s.return_count, 0) AS INT64) AS return_count,
  SAFE_DIVIDE(s.return_count, NULLIF(s.units_sold, 0)) AS return_rate,
  s.avg_margin_pct,
  SAFE_DIVIDE(k.sold_units, NULLIF(k.units_on_hand, 0)) AS inventory_turnover_ratio
FROM products AS p
LEFT JOIN sales AS s ON s.product_id = p.product_id
LEFT JOIN stock AS k ON k.product_id = p.product_id
