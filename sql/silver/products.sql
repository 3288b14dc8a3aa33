-- silver.products: one row per product id, its latest bronze version, typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH {latest_versions(products, id)},
-- Brands have no fixed list and no case rule ('IZOD', 'Levi''s', 'adidas'), so a brand's
-- canonical spelling is its most frequent one among products (ties: the first in byte
-- order); 'calvin klein' then joins 'Calvin Klein'. Same CTE as in inventory_items.sql.
brand_spellings AS (
  SELECT LOWER(spelling) AS brand_key, spelling
  FROM (
    SELECT TRIM(brand) AS spelling, COUNT(*) AS n
    FROM {bronze}.products
    WHERE NOT is_duplicate_in_file AND brand IS NOT NULL
    GROUP BY spelling
  )
  WHERE TRUE
  QUALIFY ROW_NUMBER() OVER (PARTITION BY LOWER(spelling) ORDER BY n DESC, spelling) = 1
)
SELECT
  CAST(p.id AS INT64) AS id,
  CAST(p.cost AS FLOAT64) AS cost,
  -- Amounts stay in the currency they were written in (null marker = USD); gold converts.
  IFNULL(p.cost_value_type, 'USD') AS cost_currency,
  -- Every category of the shop is in initial capitals ('Tops & Tees'): title case restores
  -- it from any input case.
  INITCAP(TRIM(p.category)) AS category,
  p.name,
  IFNULL(b.spelling, TRIM(p.brand)) AS brand,
  CAST(p.retail_price AS FLOAT64) AS retail_price,
  IFNULL(p.retail_price_value_type, 'USD') AS retail_price_currency,
  CASE LOWER(TRIM(p.department))
    WHEN 'men' THEN 'Men'
    WHEN 'women' THEN 'Women'
    ELSE TRIM(p.department)
  END AS department,
  UPPER(TRIM(p.sku)) AS sku,
  CAST(p.distribution_center_id AS INT64) AS distribution_center_id,
  p.source_object,
  p.source_line,
  p.processed_at,
  p.landing_date,
  CURRENT_TIMESTAMP() AS silver_updated_at,
  CAST(NULL AS STRING) AS reject_reason
FROM latest AS p
LEFT JOIN brand_spellings AS b ON b.brand_key = LOWER(TRIM(p.brand))
