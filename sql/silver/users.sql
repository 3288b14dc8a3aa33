-- silver.users: one row per user id, its latest bronze version, typed and standardized.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
-- Returns the silver columns plus reject_reason: rows with a reason go to ops.silver_rejects.
WITH {latest_versions(users, id)}
SELECT
  CAST(id AS INT64) AS id,
  first_name,
  last_name,
  -- Emails are not unique (never a key); lower case makes equal addresses compare equal.
  LOWER(TRIM(email)) AS email,
  CAST(age AS INT64) AS age,
  CASE UPPER(TRIM(gender))
    WHEN 'M' THEN 'Male'
    WHEN 'MALE' THEN 'Male'
    WHEN 'F' THEN 'Female'
    WHEN 'FEMALE' THEN 'Female'
    -- Anything else stays visible: the blocking schema check reports it with a sample.
    ELSE TRIM(gender)
  END AS gender,
  state,
  street_address,
  postal_code,
  city,
  country,
  CAST(latitude AS FLOAT64) AS latitude,
  CAST(longitude AS FLOAT64) AS longitude,
  CASE LOWER(TRIM(traffic_source))
    WHEN 'search' THEN 'Search'
    WHEN 'organic' THEN 'Organic'
    WHEN 'facebook' THEN 'Facebook'
    WHEN 'email' THEN 'Email'
    WHEN 'display' THEN 'Display'
    ELSE TRIM(traffic_source)
  END AS traffic_source,
  CAST(created_at AS TIMESTAMP) AS created_at,
  user_geom,
  source_object,
  source_line,
  processed_at,
  landing_date,
  CURRENT_TIMESTAMP() AS silver_updated_at,
  -- A user whose latest version has no email is excluded from silver, and counted.
  IF(NULLIF(TRIM(email), '') IS NULL, 'email is null', CAST(NULL AS STRING)) AS reject_reason
FROM latest
