-- gold.cohort_retention: monthly cohorts by first order month, and the share of each cohort
-- ordering in each month after, overall (traffic_source = 'All') and by acquisition channel.
-- The seed's "signup month (first_order_at)" is read as the month of the first non-cancelled
-- order (customer_metrics.first_order_at), not users.created_at: a cohort is the customers who
-- first bought that month, so month 0 retention is 1 by definition.
-- BigQuery Standard SQL; {silver}/{gold} are dataset placeholders and {as_of} the run's
-- reporting date as a DATE literal (ecommerce_assets/sqltables.py).
WITH customers AS (
  -- A customer's cohort is the month of their first non-cancelled order.
  SELECT
    c.user_id,
    CAST(DATE_TRUNC(DATE(c.first_order_at), MONTH) AS DATE) AS cohort_month,
    IFNULL(u.traffic_source, 'Unknown') AS traffic_source
  FROM {gold}.customer_metrics AS c
  LEFT JOIN {silver}.users AS u ON u.id = c.user_id
),
segments AS (
  SELECT user_id, cohort_month, 'All' AS traffic_source FROM customers
  UNION ALL
  SELECT user_id, cohort_month, traffic_source FROM customers
),
activity AS (
  -- The months in which each customer placed a non-cancelled order, counted from the cohort.
  SELECT DISTINCT
    c.user_id,
    DATE_DIFF(CAST(DATE_TRUNC(DATE(o.created_at), MONTH) AS DATE), c.cohort_month, MONTH)
      AS months_since_first_order
  FROM {silver}.orders AS o
  JOIN customers AS c ON c.user_id = o.user_id
  WHERE o.status <> 'Cancelled' AND DATE(o.created_at) <= {as_of}
),
sizes AS (
  SELECT traffic_source, cohort_month, COUNT(*) AS cohort_size
  FROM segments
  GROUP BY traffic_source, cohort_month
),
grid AS (
  -- Every month from the cohort's to the reporting month, so a month nobody ordered in is a
  -- 0, not a gap. Cohorts that start after the reporting month have no rows.
  SELECT s.traffic_source, s.cohort_month, s.cohort_size, m AS months_since_first_order
  FROM sizes AS s
  CROSS JOIN UNNEST(GENERATE_ARRAY(0, DATE_DIFF(
    CAST(DATE_TRUNC({as_of}, MONTH) AS DATE), s.cohort_month, MONTH))) AS m
),
active AS (
  SELECT s.traffic_source, s.cohort_month, a.months_since_first_order,
         COUNT(*) AS active_customers
  FROM segments AS s
  JOIN activity AS a ON a.user_id = s.user_id
  GROUP BY s.traffic_source, s.cohort_month, a.months_since_first_order
)
SELECT
  g.traffic_source,
  g.cohort_month,
  g.months_since_first_order,
  g.cohort_size,
  IFNULL(a.active_customers, 0) AS active_customers,
  IFNULL(a.active_customers, 0) / g.cohort_size AS retention_rate
FROM grid AS g
LEFT JOIN active AS a
  ON a.traffic_source = g.traffic_source
  AND a.cohort_month = g.cohort_month
  AND a.months_since_first_order = g.months_since_first_order
