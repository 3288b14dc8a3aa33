-- silver.distribution_centers: one row per distribution center id, its latest bronze version.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH {latest_versions(distribution_centers, id)}
SELECT
  CAST(id AS INT64) AS id,
  name,
  CAST(latitude AS FLOAT64) AS latitude,
  CAST(longitude AS FLOAT64) AS longitude,
  distribution_center_geom,
  source_object,
  source_line,
  processed_at,
  landing_date,
  CURRENT_TIMESTAMP() AS silver_updated_at,
  CAST(NULL AS STRING) AS reject_reason
FROM latest
