-- marts.dim_customer: one row per version of a customer (SCD type 2), plus the unknown (-1)
-- and anonymous (-2) members. BigQuery Standard SQL (see ecommerce_assets/marts/spec.py).
-- silver.users keeps only the latest version of a user, so the history comes from bronze,
-- which keeps every landed version. The versioned attributes are cleaned as silver cleans
-- them; the others (name, email, age, gender) are type 1: the current silver value.
WITH landed AS (
  -- A landing day's last version of a user is that day's state (sqltables.VERSION_ORDER
  -- within the day): several versions landed the same day make one change, not several.
  SELECT
    CAST(id AS INT64) AS customer_id,
    street_address,
    city,
    state,
    postal_code,
    country,
    CASE LOWER(TRIM(traffic_source))
      WHEN 'search' THEN 'Search'
      WHEN 'organic' THEN 'Organic'
      WHEN 'facebook' THEN 'Facebook'
      WHEN 'email' THEN 'Email'
      WHEN 'display' THEN 'Display'
      ELSE TRIM(traffic_source)
    END AS traffic_source,
    CAST(created_at AS TIMESTAMP) AS created_at,
    landing_date
  FROM {bronze}.users
  WHERE NOT is_duplicate_in_file
  QUALIFY ROW_NUMBER() OVER (PARTITION BY id, landing_date
                             ORDER BY processed_at DESC, source_object DESC,
                                      source_line DESC) = 1
),
compared AS (
  -- A day starts a new version when any versioned attribute differs from the day before.
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY landing_date) = 1
      OR street_address IS DISTINCT FROM LAG(street_address) OVER w
      OR city IS DISTINCT FROM LAG(city) OVER w
      OR state IS DISTINCT FROM LAG(state) OVER w
      OR postal_code IS DISTINCT FROM LAG(postal_code) OVER w
      OR country IS DISTINCT FROM LAG(country) OVER w
      OR traffic_source IS DISTINCT FROM LAG(traffic_source) OVER w AS is_change
  FROM landed
  -- Only users silver holds (a user whose latest version is rejected is not a customer).
  WHERE customer_id IN (SELECT id FROM {silver}.users)
  WINDOW w AS (PARTITION BY customer_id ORDER BY landing_date)
),
changes AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY landing_date) AS version,
    LEAD(TIMESTAMP(landing_date)) OVER (PARTITION BY customer_id ORDER BY landing_date)
      AS next_from
  FROM compared
  WHERE is_change
),
versions AS (
  -- The first version is valid from the sign-up (created_at), a later one from the start
  -- (00:00 UTC) of the day it landed; each ends where the next begins.
  SELECT
    *,
    CASE
      WHEN version = 1 AND created_at IS NOT NULL
           AND (next_from IS NULL OR created_at < next_from) THEN created_at
      ELSE TIMESTAMP(landing_date)
    END AS valid_from
  FROM changes
)
SELECT
  -- Deterministic: a rebuild gives every version the same key.
  CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(CONCAT(CAST(v.customer_id AS STRING), '|',
                                             CAST(UNIX_MICROS(v.valid_from) AS STRING)))),
                           1, 15)) AS INT64) AS customer_key,
  v.customer_id,
  v.version,
  v.valid_from,
  IFNULL(v.next_from, TIMESTAMP '9999-12-31 00:00:00+00') AS valid_to,
  v.next_from IS NULL AS is_current,
  u.first_name,
  u.last_name,
  u.email,
  u.age,
  u.gender,
  v.street_address,
  v.city,
  v.state,
  v.postal_code,
  v.country,
  v.traffic_source
FROM versions AS v
JOIN {silver}.users AS u ON u.id = v.customer_id
UNION ALL
-- The unknown member: a fact whose customer has not landed yet points here until it does.
SELECT -1, CAST(NULL AS INT64), 0, TIMESTAMP '1900-01-01 00:00:00+00',
       TIMESTAMP '9999-12-31 00:00:00+00', TRUE, 'Unknown', 'Unknown', CAST(NULL AS STRING),
       CAST(NULL AS INT64), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING),
       CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING)
UNION ALL
-- The anonymous member: web activity of a visitor who never signed up (no user_id).
SELECT -2, CAST(NULL AS INT64), 0, TIMESTAMP '1900-01-01 00:00:00+00',
       TIMESTAMP '9999-12-31 00:00:00+00', TRUE, 'Anonymous', 'Anonymous',
       CAST(NULL AS STRING), CAST(NULL AS INT64), CAST(NULL AS STRING), CAST(NULL AS STRING),
       CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING), CAST(NULL AS STRING),
       CAST(NULL AS STRING)
