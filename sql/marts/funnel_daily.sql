-- marts.funnel_daily: the purchase funnel by session day and traffic source (seed 004):
-- sessions reaching browse (home or department) -> product -> cart -> purchase, each step
-- counting the sessions that reached it or a later one, and each step's conversion rate.
SELECT
  session_date,
  IFNULL(traffic_source, 'Unknown') AS traffic_source,
  COUNT(*) AS sessions,
  CAST(COUNTIF(funnel_step >= 1) AS INT64) AS browse_sessions,
  CAST(COUNTIF(funnel_step >= 2) AS INT64) AS product_sessions,
  CAST(COUNTIF(funnel_step >= 3) AS INT64) AS cart_sessions,
  CAST(COUNTIF(funnel_step >= 4) AS INT64) AS purchase_sessions,
  SAFE_DIVIDE(COUNTIF(funnel_step >= 2), COUNTIF(funnel_step >= 1)) AS product_rate,
  SAFE_DIVIDE(COUNTIF(funnel_step >= 3), COUNTIF(funnel_step >= 2)) AS cart_rate,
  SAFE_DIVIDE(COUNTIF(funnel_step >= 4), COUNTIF(funnel_step >= 3)) AS purchase_rate,
  SAFE_DIVIDE(COUNTIF(funnel_step >= 4), COUNT(*)) AS conversion_rate
FROM {marts}.fact_sessions
WHERE session_date IS NOT NULL
GROUP BY session_date, IFNULL(traffic_source, 'Unknown')
