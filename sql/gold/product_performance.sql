-- gold.product_performance: one row per product.
-- BigQuery Standard SQL; {silver}/{gold} are dataset placeholders and {as_of} the run's
-- reporting date as a DATE literal (ecommerce_assets/sqltables.py). as_of is a cut-off: the
-- items come from gold.orders_enriched (already cut), inventory units received after it are
-- left out and a unit sold after it is still on hand.
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
           NULL)) AS avg_margin_ratio
  FROM {gold}.orders_enriched
  GROUP BY product_id
),
unit_sales AS (
  -- Whether each inventory unit is among the units sold (an item of any status but
  -- Cancelled): a unit whose only sale was cancelled is back on hand, though silver keeps
  -- its sold_at.
  SELECT inventory_item_id, COUNTIF(status <> 'Cancelled') > 0 AS sold
  FROM {gold}.orders_enriched
  WHERE inventory_item_id IS NOT NULL
  GROUP BY inventory_item_id
),
stock AS (
  -- Units on hand at the end of the day as_of. A unit with no item in gold (its order is not
  -- in silver, or was placed after as_of) falls back to its own sold_at.
  SELECT
    i.product_id,
    COUNTIF(NOT IFNULL(u.sold, i.sold_at IS NOT NULL AND DATE(i.sold_at) <= {as_of}))
      AS units_on_hand
  FROM {silver}.inventory_items AS i
  LEFT JOIN unit_sales AS u ON u.inventory_item_id = i.id
  WHERE i.created_at IS NULL OR DATE(i.created_at) <= {as_of}
  GROUP BY i.product_id
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
  s.avg_margin_ratio,
  -- The units of units_sold (cancelled items are not sold) over the units on hand.
  SAFE_DIVIDE(IFNULL(s.units_sold, 0), NULLIF(k.units_on_hand, 0)) AS inventory_turnover_ratio
FROM products AS p
LEFT JOIN sales AS s ON s.product_id = p.product_id
LEFT JOIN stock AS k ON k.product_id = p.product_id
