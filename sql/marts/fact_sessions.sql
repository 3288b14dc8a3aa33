-- marts.fact_sessions: one row per web session (seed 004's FACT_SESSIONS): start, end,
-- duration, events, pages, where it came from and landed, how far down the purchase funnel
-- it went, and its path (seed 004's navigation patterns). Built from fact_user_activity.
WITH firsts AS (
  -- The session's first event: its visitor, source, browser, landing page and location.
  SELECT *
  FROM {marts}.fact_user_activity
  WHERE session_id IS NOT NULL AND step_in_session = 1
),
totals AS (
  SELECT
    a.session_id,
    MIN(a.event_timestamp) AS session_start,
    MAX(a.event_timestamp) AS session_end,
    COUNT(*) AS event_count,
    COUNT(DISTINCT a.page) AS page_count,
    -- The deepest funnel step reached (a purchase passed the cart, and so on): 0 if none.
    IFNULL(MAX(t.funnel_step), 0) AS funnel_step,
    STRING_AGG(IFNULL(a.activity_type, '?'), ' > ' ORDER BY a.step_in_session) AS path
  FROM {marts}.fact_user_activity AS a
  LEFT JOIN {marts}.dim_event_type AS t ON t.event_type_key = a.event_type_key
  WHERE a.session_id IS NOT NULL
  GROUP BY a.session_id
)
SELECT
  t.session_id,
  f.user_id,
  f.customer_key,
  DATE(t.session_start) AS session_date,
  IFNULL(EXTRACT(YEAR FROM t.session_start) * 10000 + EXTRACT(MONTH FROM t.session_start) * 100
         + EXTRACT(DAY FROM t.session_start), -1) AS date_key,
  t.session_start,
  t.session_end,
  TIMESTAMP_DIFF(t.session_end, t.session_start, SECOND) AS duration_seconds,
  t.event_count,
  t.page_count,
  s.traffic_source,
  f.traffic_source_key,
  b.browser,
  f.browser_key,
  f.page AS landing_page,
  f.city,
  f.state,
  f.postal_code,
  t.funnel_step,
  t.funnel_step = 4 AS converted,
  t.path
FROM totals AS t
JOIN firsts AS f USING (session_id)
LEFT JOIN {marts}.dim_traffic_source AS s
  ON s.traffic_source_key = f.traffic_source_key AND f.traffic_source_key <> -1
LEFT JOIN {marts}.dim_browser AS b
  ON b.browser_key = f.browser_key AND f.browser_key <> -1
