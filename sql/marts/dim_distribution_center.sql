-- marts.dim_distribution_center: one row per distribution center (its id is the key: the
-- rows never change), plus the unknown member (-1). BigQuery Standard SQL.
SELECT
  id AS distribution_center_key,
  id AS distribution_center_id,
  name,
  latitude,
  longitude
FROM {silver}.distribution_centers
UNION ALL
SELECT -1, CAST(NULL AS INT64), 'Unknown', CAST(NULL AS FLOAT64), CAST(NULL AS FLOAT64)
