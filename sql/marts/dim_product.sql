-- marts.dim_product: one row per version of a product (SCD type 2 on name and list price),
-- plus the unknown member (-1). BigQuery Standard SQL (see ecommerce_assets/marts/spec.py).
-- The history comes from bronze (every landed version); category, brand, department, SKU,
-- cost and distribution center are type 1 (the current silver value).
WITH landed AS (
  -- A landing day's last version is that day's state (as in dim_customer.sql).
  SELECT
    CAST(p.id AS INT64) AS product_id,
    p.name,
    CAST(p.retail_price AS FLOAT64) AS retail_price,
    IFNULL(p.retail_price_value_type, 'USD') AS retail_price_currency,
    CAST(ROUND(CAST(CAST(p.retail_price AS FLOAT64) * fx.rate_to_usd AS NUMERIC(38, 9)), 2)
      AS FLOAT64) AS retail_price_usd,
    p.landing_date
  FROM {bronze}.products AS p
  LEFT JOIN {gold}.fx_rates AS fx ON fx.currency = IFNULL(p.retail_price_value_type, 'USD')
  WHERE NOT p.is_duplicate_in_file
  QUALIFY ROW_NUMBER() OVER (PARTITION BY p.id, p.landing_date
                             ORDER BY p.processed_at DESC, p.source_object DESC,
                                      p.source_line DESC) = 1
),
compared AS (
  -- A new version when the name changes or the USD list price moves by more than 0.5%:
  -- the same price written in another currency converts back within a cent or so, which
  -- is no change.
  SELECT
    *,
    ROW_NUMBER() OVER w = 1
      OR name IS DISTINCT FROM LAG(name) OVER w
      OR (retail_price_usd IS NULL) <> (LAG(retail_price_usd) OVER w IS NULL)
      OR ABS(retail_price_usd - LAG(retail_price_usd) OVER w)
         > 0.005 * LAG(retail_price_usd) OVER w AS is_change
  FROM landed
  WHERE product_id IN (SELECT id FROM {silver}.products)
  WINDOW w AS (PARTITION BY product_id ORDER BY landing_date)
),
changes AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY landing_date) AS version,
    LEAD(TIMESTAMP(landing_date)) OVER (PARTITION BY product_id ORDER BY landing_date)
      AS next_from
  FROM compared
  WHERE is_change
)
SELECT
  CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(CONCAT(CAST(c.product_id AS STRING), '|',
                                             CAST(UNIX_MICROS(IF(c.version = 1,
                                               TIMESTAMP '1900-01-01 00:00:00+00',
                                               TIMESTAMP(c.landing_date))) AS STRING)))),
                           1, 15)) AS INT64) AS product_key,
  c.product_id,
  c.version,
  -- Products have no creation time: the first version is valid since ever.
  IF(c.version = 1, TIMESTAMP '1900-01-01 00:00:00+00', TIMESTAMP(c.landing_date))
    AS valid_from,
  IFNULL(c.next_from, TIMESTAMP '9999-12-31 00:00:00+00') AS valid_to,
  c.next_from IS NULL AS is_current,
  c.name,
  c.retail_price,
  c.retail_price_currency,
  c.retail_price_usd,
  p.category,
  p.brand,
  p.department,
  p.sku,
  p.distribution_center_id
FROM changes AS c
JOIN {silver}.products AS p ON p.id = c.product_id
UNION ALL
-- The unknown member: an order item or a stock movement whose product has not landed yet.
SELECT -1, CAST(NULL AS INT64), 0, TIMESTAMP '1900-01-01 00:00:00+00',
       TIMESTAMP '9999-12-31 00:00:00+00', TRUE, 'Unknown', CAST(NULL AS FLOAT64),
       CAST(NULL AS STRING), CAST(NULL AS FLOAT64), CAST(NULL AS STRING), CAST(NULL AS STRING),
       CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS INT64)
