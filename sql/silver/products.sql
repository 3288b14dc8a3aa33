-- silver.products: one row per product id, its latest bronze version, typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH winners AS (
  -- The latest version of each key. Backfills re-ingest old landing days with a newer
  -- processed_at, so the landing day decides first; processed_at, then object and line
  -- (later in the same file = later) break ties. Ranked on the narrow version columns only.
  SELECT id, landing_date, source_object, source_line
  FROM {bronze}.products
  -- Repeats of an identical raw row within one object never reach silver.
  WHERE NOT is_duplicate_in_file
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY id
    ORDER BY landing_date DESC, processed_at DESC, source_object DESC, source_line DESC) = 1
),
latest AS (
  -- A bronze row is identified by its landing day, object and line.
  SELECT b.*
  FROM {bronze}.products AS b
  JOIN winners AS w USING (id, landing_date, source_object, source_line)
  WHERE NOT b.is_duplicate_in_file
),
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
  CAST(NULL AS STRING) AS reject_reason
FROM latest AS p
LEFT JOIN brand_spellings AS b ON b.brand_key = LOWER(TRIM(p.brand))
