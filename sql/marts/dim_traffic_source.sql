-- marts.dim_traffic_source: every traffic source of the web sessions (silver.events) and of
-- the customers' acquisition (silver.users), plus the unknown member (-1). The two columns
-- use different value sets (THELOOK.md); the flags say where a value occurs.
WITH sources AS (
  SELECT traffic_source, TRUE AS of_sessions, FALSE AS of_customers
  FROM {silver}.events WHERE traffic_source IS NOT NULL
  UNION ALL
  SELECT traffic_source, FALSE, TRUE
  FROM {silver}.users WHERE traffic_source IS NOT NULL
)
SELECT
  -- A hash of the name: the same key on every rebuild, whatever values appear later.
  CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(traffic_source)), 1, 15)) AS INT64) AS traffic_source_key,
  traffic_source,
  LOGICAL_OR(of_sessions) AS is_session_source,
  LOGICAL_OR(of_customers) AS is_acquisition_channel
FROM sources
GROUP BY traffic_source
UNION ALL
SELECT -1, 'Unknown', FALSE, FALSE
