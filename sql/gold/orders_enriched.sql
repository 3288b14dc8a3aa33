-- gold.orders_enriched: one row per order item of a known order, with the order, the user's
-- demographics, the product's details, the original price and currency, and the price in USD.
-- BigQuery Standard SQL; {silver}/{gold} are dataset placeholders and {as_of} the run's
-- reporting date as a DATE literal (ecommerce_assets/sqltables.py).
--
-- as_of is a cut-off: orders placed after the UTC day as_of are left out with their items, so
-- a back-dated report sees the sales made by then (every mart reads the items from here). An
-- item counts with its order, whose date is the sale date, though its own created_at drifts
-- up to days later. Statuses and shipped/delivered/returned times are the latest known.
--
-- This is the item-level fact every gold mart aggregates, so the two definitions they share
-- live here once:
-- * sale_price_usd: conversion by join with gold.fx_rates, rounded to the cent (a price in
--   USD has cents), so sums over any grouping agree to the cent. Money is rounded as NUMERIC
--   (decimal, 9 places), never as FLOAT64: a float product like 17.144999999999996 stands for
--   the half cent 17.145, and engines round such float ties differently (DuckDB down,
--   BigQuery up); as a decimal it is 17.145000000 and rounds half away from zero everywhere.
--   NUMERIC(38, 9) is BigQuery's NUMERIC spelled out, so DuckDB gets the same scale;
-- * is_revenue_item: the item's status is neither Cancelled nor Returned.
-- Items whose order is not (yet) in silver are left out: without the order there is no
-- sale date and no customer (silver's orphan_order_id check counts them). Users and products
-- are joined LEFT: a sale whose user or product row has not arrived still counts.
SELECT
  oi.id AS order_item_id,
  oi.order_id,
  o.user_id,
  oi.product_id,
  oi.inventory_item_id,
  -- Items copy their order's status; the order's stands in for a missing one.
  COALESCE(oi.status, o.status) AS status,
  o.status AS order_status,
  COALESCE(oi.status, o.status) NOT IN ('Cancelled', 'Returned') AS is_revenue_item,
  o.created_at AS order_created_at,
  DATE(o.created_at) AS sale_date,
  oi.shipped_at,
  oi.delivered_at,
  oi.returned_at,
  u.age,
  u.gender,
  u.country,
  u.traffic_source,
  p.name AS product_name,
  p.category,
  p.brand,
  p.department,
  oi.sale_price,
  oi.sale_price_currency,
  fx.rate_to_usd AS fx_rate_to_usd,
  CAST(ROUND(CAST(oi.sale_price * fx.rate_to_usd AS NUMERIC(38, 9)), 2) AS FLOAT64) AS sale_price_usd,
  -- The cost of the unit actually sold (products carry a list cost; inventory the real one).
  i.cost * cost_fx.rate_to_usd AS unit_cost_usd
FROM {silver}.order_items AS oi
JOIN {silver}.orders AS o ON o.order_id = oi.order_id
LEFT JOIN {silver}.users AS u ON u.id = o.user_id
LEFT JOIN {silver}.products AS p ON p.id = oi.product_id
LEFT JOIN {silver}.inventory_items AS i ON i.id = oi.inventory_item_id
LEFT JOIN {gold}.fx_rates AS fx ON fx.currency = oi.sale_price_currency
LEFT JOIN {gold}.fx_rates AS cost_fx ON cost_fx.currency = i.cost_currency
WHERE DATE(o.created_at) <= {as_of}
