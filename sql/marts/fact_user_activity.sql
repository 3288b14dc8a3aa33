-- marts.fact_user_activity: one row per web event (seed 001's user activity, seed 004's
-- FACT_EVENTS), numbered within its session. BigQuery SQL.
-- An event of a user who has not landed yet points at the unknown customer (-1) until the
-- user lands; an anonymous visitor's (no user_id) at the anonymous member (-2).
WITH steps AS (
  -- Numbered on the narrow columns, then joined back: sorting whole rows costs more.
  -- Ties in time are broken by the shop's own sequence number, then the id.
  SELECT
    id,
    ROW_NUMBER() OVER (PARTITION BY session_id
                       ORDER BY created_at, sequence_number, id) AS step_in_session
  FROM {silver}.events
)
SELECT
  e.id AS event_id,
  e.user_id,
  CASE WHEN e.user_id IS NULL THEN -2 ELSE IFNULL(c.customer_key, -1) END AS customer_key,
  e.session_id,
  DATE(e.created_at) AS event_date,
  e.created_at AS event_timestamp,
  IFNULL(EXTRACT(YEAR FROM e.created_at) * 10000 + EXTRACT(MONTH FROM e.created_at) * 100
         + EXTRACT(DAY FROM e.created_at), -1) AS date_key,
  e.sequence_number,
  e.event_type AS activity_type,
  IFNULL(t.event_type_key, -1) AS event_type_key,
  st.step_in_session,
  e.uri AS page,
  -- Source and browser by key only (their names are in the dimensions): the widest fact
  -- stays narrow.
  IFNULL(s.traffic_source_key, -1) AS traffic_source_key,
  IFNULL(b.browser_key, -1) AS browser_key,
  e.city,
  e.state,
  e.postal_code
FROM {silver}.events AS e
JOIN steps AS st ON st.id = e.id
LEFT JOIN {marts}.dim_customer AS c
  ON c.customer_id = e.user_id
  AND (e.created_at >= c.valid_from OR c.version = 1)
  AND e.created_at < c.valid_to
LEFT JOIN {marts}.dim_event_type AS t ON t.event_type = e.event_type
LEFT JOIN {marts}.dim_traffic_source AS s ON s.traffic_source = e.traffic_source
LEFT JOIN {marts}.dim_browser AS b ON b.browser = e.browser
