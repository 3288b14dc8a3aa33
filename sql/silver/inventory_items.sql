-- silver.inventory_items: one row per inventory item id, its latest bronze version, typed and
-- standardized like silver.products.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH {latest_versions(inventory_items, id)},
-- The brand spellings of products.sql (most frequent spelling among products), so that
-- product_brand is spelled as silver.products.brand.
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
  CAST(i.id AS INT64) AS id,
  CAST(i.product_id AS INT64) AS product_id,
  CAST(i.created_at AS TIMESTAMP) AS created_at,
  CAST(i.sold_at AS TIMESTAMP) AS sold_at,
  CAST(i.cost AS FLOAT64) AS cost,
  IFNULL(i.cost_value_type, 'USD') AS cost_currency,
  INITCAP(TRIM(i.product_category)) AS product_category,
  i.product_name,
  IFNULL(b.spelling, TRIM(i.product_brand)) AS product_brand,
  CAST(i.product_retail_price AS FLOAT64) AS product_retail_price,
  IFNULL(i.product_retail_price_value_type, 'USD') AS product_retail_price_currency,
  CASE LOWER(TRIM(i.product_department))
    WHEN 'men' THEN 'Men'
    WHEN 'women' THEN 'Women'
    ELSE TRIM(i.product_department)
  END AS product_department,
  UPPER(TRIM(i.product_sku)) AS product_sku,
  CAST(i.product_distribution_center_id AS INT64) AS product_distribution_center_id,
  i.source_object,
  i.source_line,
  i.processed_at,
  i.landing_date,
  CURRENT_TIMESTAMP() AS silver_updated_at,
  CAST(NULL AS STRING) AS reject_reason
FROM latest AS i
LEFT JOIN brand_spellings AS b ON b.brand_key = LOWER(TRIM(i.product_brand))
