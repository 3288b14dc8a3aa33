-- marts.fact_order_header: one row per order (seed 001's header), with the shipping address
-- of the customer version valid when the order was placed, flattened. BigQuery SQL.
-- An order whose customer has not landed yet points at the unknown customer (-1), address
-- null; the next build re-points it, since every build reads silver whole.
SELECT
  o.order_id,
  DATE(o.created_at) AS order_date,
  o.created_at AS order_created_at,
  EXTRACT(YEAR FROM o.created_at) * 10000 + EXTRACT(MONTH FROM o.created_at) * 100
    + EXTRACT(DAY FROM o.created_at) AS date_key,
  o.user_id AS customer_id,
  IFNULL(c.customer_key, -1) AS customer_key,
  o.status,
  IFNULL(s.order_status_key, -1) AS order_status_key,
  o.num_of_item,
  o.shipped_at,
  o.delivered_at,
  o.returned_at,
  c.street_address AS shipping_address_street,
  c.city AS shipping_address_city,
  c.state AS shipping_address_state,
  c.postal_code AS shipping_address_postal_code,
  c.country AS shipping_address_country
FROM {silver}.orders AS o
-- The version valid at the order's time; an order before the first version (placed before
-- the sign-up time) takes the first.
LEFT JOIN {marts}.dim_customer AS c
  ON c.customer_id = o.user_id
  AND (o.created_at >= c.valid_from OR c.version = 1)
  AND o.created_at < c.valid_to
LEFT JOIN {marts}.dim_order_status AS s ON s.order_status = o.status
