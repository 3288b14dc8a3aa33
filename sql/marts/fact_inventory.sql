-- marts.fact_inventory: one row per stock movement of an inventory unit (seed 001's
-- inventory): `received` (+1, when the unit was stocked), `sold` (-1, when it was sold) and
-- `returned` (+1, when its order item came back). BigQuery SQL.
WITH movements AS (
  SELECT id AS inventory_item_id, 'received' AS reason, created_at AS movement_at,
         CAST(1 AS INT64) AS quantity_change, product_id, product_distribution_center_id
  FROM {silver}.inventory_items
  WHERE created_at IS NOT NULL
  UNION ALL
  SELECT id, 'sold', sold_at, CAST(-1 AS INT64), product_id, product_distribution_center_id
  FROM {silver}.inventory_items
  WHERE sold_at IS NOT NULL
  UNION ALL
  -- A unit comes back once: the first return of any item that sold it.
  SELECT oi.inventory_item_id, 'returned', MIN(oi.returned_at), CAST(1 AS INT64),
         ANY_VALUE(IFNULL(ii.product_id, oi.product_id)),
         ANY_VALUE(ii.product_distribution_center_id)
  FROM {silver}.order_items AS oi
  LEFT JOIN {silver}.inventory_items AS ii ON ii.id = oi.inventory_item_id
  WHERE oi.returned_at IS NOT NULL AND oi.inventory_item_id IS NOT NULL
  GROUP BY oi.inventory_item_id
)
SELECT
  m.inventory_item_id,
  m.reason,
  DATE(m.movement_at) AS movement_date,
  m.movement_at,
  EXTRACT(YEAR FROM m.movement_at) * 10000 + EXTRACT(MONTH FROM m.movement_at) * 100
    + EXTRACT(DAY FROM m.movement_at) AS date_key,
  m.product_id,
  IFNULL(p.product_key, -1) AS product_key,
  m.product_distribution_center_id AS distribution_center_id,
  IFNULL(d.distribution_center_key, -1) AS distribution_center_key,
  m.quantity_change
FROM movements AS m
LEFT JOIN {marts}.dim_product AS p
  ON p.product_id = m.product_id
  AND (m.movement_at >= p.valid_from OR p.version = 1)
  AND m.movement_at < p.valid_to
LEFT JOIN {marts}.dim_distribution_center AS d
  ON d.distribution_center_id = m.product_distribution_center_id
