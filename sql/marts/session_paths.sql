-- marts.session_paths: the 50 most common session paths (seed 004's navigation patterns):
-- the sequence of event types of a session in step order (fact_sessions.path), how many
-- sessions took it and how many of those purchased.
SELECT
  ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, path) AS path_rank,
  path,
  MIN(event_count) AS steps,
  COUNT(*) AS sessions,
  COUNT(*) / SUM(COUNT(*)) OVER () AS share_of_sessions,
  CAST(COUNTIF(converted) AS INT64) AS converted_sessions,
  COUNTIF(converted) / COUNT(*) AS conversion_rate
FROM {marts}.fact_sessions
GROUP BY path
QUALIFY ROW_NUMBER() OVER (ORDER BY COUNT(*) DESC, path) <= 50
