-- marts.fact_order: one row per order item with the order's and the customer's fields
-- (seed 001's fact_order: customer-centric questions with no join). Built from the two
-- order facts and the dimension rows they point at. BigQuery SQL.
SELECT
  i.order_item_id,
  i.order_id,
  i.order_date,
  i.order_created_at,
  i.date_key,
  i.customer_id,
  i.customer_key,
  -- Null until the customer lands (the unknown member has no name).
  IF(i.customer_key < 0, CAST(NULL AS STRING),
     TRIM(CONCAT(IFNULL(c.first_name, ''), ' ', IFNULL(c.last_name, '')))) AS customer_name,
  IF(i.customer_key < 0, CAST(NULL AS STRING), c.email) AS customer_email,
  c.age AS customer_age,
  c.gender AS customer_gender,
  c.city AS customer_city,
  c.state AS customer_state,
  c.country AS customer_country,
  c.traffic_source AS customer_traffic_source,
  h.status AS order_status,
  i.item_status,
  h.num_of_item,
  h.shipped_at,
  h.delivered_at,
  h.returned_at,
  h.shipping_address_country,
  i.product_id,
  i.product_key,
  i.product_name,
  p.category AS product_category,
  p.brand AS product_brand,
  p.department AS product_department,
  i.quantity,
  i.sale_price,
  i.sale_price_currency,
  i.total_amount
FROM {marts}.fact_order_item AS i
LEFT JOIN {marts}.fact_order_header AS h ON h.order_id = i.order_id
LEFT JOIN {marts}.dim_customer AS c ON c.customer_key = i.customer_key
LEFT JOIN {marts}.dim_product AS p ON p.product_key = i.product_key
