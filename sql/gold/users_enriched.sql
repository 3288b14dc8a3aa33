-- gold.users_enriched: one row per silver user, with a standardized address and churn risk.
-- BigQuery Standard SQL; {silver}/{gold} are dataset placeholders and {as_of} the run's
-- reporting date as a DATE literal (ecommerce_assets/sqltables.py): users who signed up after
-- it are left out (a user with no sign-up time stays).
WITH standardized_addresses AS (
  -- The seam: gold replaces this CTE's body with the AddressStandardizer resource's SELECT
  -- (resources/addresses.py: the USPS rules by default, Gemini's AI.GENERATE_TEXT on BigQuery,
  -- sql/gold/bigquery/standardize_addresses_gemini.sql). Run as is, addresses stay NULL.
  SELECT id AS user_id, CAST(NULL AS STRING) AS standardized_address
  FROM {silver}.users
)
SELECT
  u.id AS user_id,
  u.first_name,
  u.last_name,
  u.email,
  u.age,
  u.gender,
  u.state,
  u.street_address,
  u.postal_code,
  u.city,
  u.country,
  u.latitude,
  u.longitude,
  u.traffic_source,
  u.created_at,
  a.standardized_address,
  -- Churn risk in [0, 1], a fixed RFM-style blend (README, "Gold"): recency weighs most and
  -- saturates at 180 days (twice the churn threshold), one-order customers are riskier than
  -- regulars, and returns add risk. NULL for users with no non-cancelled order.
  ROUND(
    0.6 * LEAST(GREATEST(c.days_since_last_order, 0) / 180, 1)
    + 0.25 / c.lifetime_order_count
    + 0.15 * c.return_rate,
    4) AS churn_risk_score,
  c.churn_flag
FROM {silver}.users AS u
LEFT JOIN standardized_addresses AS a ON a.user_id = u.id
LEFT JOIN {gold}.customer_metrics AS c ON c.user_id = u.id
WHERE u.created_at IS NULL OR DATE(u.created_at) <= {as_of}
