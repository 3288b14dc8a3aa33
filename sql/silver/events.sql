-- silver.events: one row per event id, its latest bronze version, typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH {latest_versions(events, id)}
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
  CURRENT_TIMESTAMP() AS silver_updated_at,
  CAST(NULL AS STRING) AS reject_reason
FROM latest
