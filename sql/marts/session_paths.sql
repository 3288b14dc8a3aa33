-- marts.session_paths: the 50 most common session paths (seed 004's navigation patterns):
-- the sequence of event types of a session in step order, how many sessions took it and
-- how many of those purchased.
WITH paths AS (
  SELECT
    session_id,
    STRING_AGG(IFNULL(activity_type, '?'), ' > ' ORDER BY step_in_session) AS path,
    COUNT(*) AS steps,
    LOGICAL_OR(activity_type = 'purchase') AS converted
  FROM {marts}.fact_user_activity
  WHERE session_id IS NOT NULL
  GROUP BY session_id
)
SELECT
  ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, path) AS path_rank,
  path,
  MIN(steps) AS steps,
  COUNT(*) AS sessions,
  COUNT(*) / SUM(COUNT(*)) OVER () AS share_of_sessions,
  CAST(COUNTIF(converted) AS INT64) AS converted_sessions,
  COUNTIF(converted) / COUNT(*) AS conversion_rate
FROM paths
GROUP BY path
QUALIFY ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, path) <= 50
