-- BigQuery only: fill gold.fx_rates from the remote function convert_to_usd (seed §4) instead
-- of the FxRates resource: one call per currency in use, not one per order item. Gold keeps
-- converting by join with this table (sql/gold/orders_enriched.sql), so every mart sees the
-- same rate within a refresh. Assumes the function is linear (price x rate).
-- {gold}, {silver} and {bronze} are dataset placeholders (ecommerce_assets/sqltables.py).
CREATE OR REPLACE TABLE {gold}.fx_rates AS
SELECT
  currency,
  {bronze}.convert_to_usd(1.0, currency) AS rate_to_usd,
  CURRENT_DATE() AS as_of_date,
  'remote function convert_to_usd' AS source
FROM (
  SELECT sale_price_currency AS currency FROM {silver}.order_items
  UNION DISTINCT SELECT cost_currency FROM {silver}.products
  UNION DISTINCT SELECT retail_price_currency FROM {silver}.products
  UNION DISTINCT SELECT cost_currency FROM {silver}.inventory_items
  UNION DISTINCT SELECT product_retail_price_currency FROM {silver}.inventory_items
)
WHERE currency IS NOT NULL
