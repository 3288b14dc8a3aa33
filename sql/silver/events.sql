-- silver.events: one row per event id, its latest bronze version, typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH winners AS (
  -- The latest version of each key. Backfills re-ingest old landing days with a newer
  -- processed_at, so the landing day decides first; processed_at, then object and line
  -- (later in the same file = later) break ties. Ranked on the narrow version columns only.
  SELECT id, landing_date, source_object, source_line
  FROM {bronze}.events
  -- Repeats of an identical raw row within one object never reach silver.
  WHERE NOT is_duplicate_in_file
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY id
    ORDER BY landing_date DESC, processed_at DESC, source_object DESC, source_line DESC) = 1
),
latest AS (
  -- A bronze row is identified by its landing day, object and line.
  SELECT b.*
  FROM {bronze}.events AS b
  JOIN winners AS w USING (id, landing_date, source_object, source_line)
  WHERE NOT b.is_duplicate_in_file
)
SELECT
  CAST(id AS INT64) AS id,
  CAST(user_id AS INT64) AS user_id,
  CAST(sequence_number AS INT64) AS sequence_number,
  session_id,
  CAST(created_at AS TIMESTAMP) AS created_at,
  TRIM(ip_address) AS ip_address,
  city,
  state,
  postal_code,
  -- Browsers and traffic sources have mixed-case canonical names ('IE', 'YouTube'), so each
  -- is matched case-insensitively to its spelling. events.traffic_source is a different
  -- value set from users.traffic_source.
  CASE LOWER(TRIM(browser))
    WHEN 'chrome' THEN 'Chrome'
    WHEN 'safari' THEN 'Safari'
    WHEN 'firefox' THEN 'Firefox'
    WHEN 'ie' THEN 'IE'
    WHEN 'other' THEN 'Other'
    ELSE TRIM(browser)
  END AS browser,
  CASE LOWER(TRIM(traffic_source))
    WHEN 'email' THEN 'Email'
    WHEN 'adwords' THEN 'Adwords'
    WHEN 'youtube' THEN 'YouTube'
    WHEN 'facebook' THEN 'Facebook'
    WHEN 'organic' THEN 'Organic'
    ELSE TRIM(traffic_source)
  END AS traffic_source,
  TRIM(uri) AS uri,
  LOWER(TRIM(event_type)) AS event_type,
  source_object,
  source_line,
  processed_at,
  landing_date,
  CAST(NULL AS STRING) AS reject_reason
FROM latest
