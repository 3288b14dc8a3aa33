-- silver.distribution_centers: one row per distribution center id, its latest bronze version.
-- BigQuery Standard SQL; {bronze} is the bronze dataset (see ecommerce_assets/sqltables.py).
WITH winners AS (
  -- The latest version of each key. Backfills re-ingest old landing days with a newer
  -- processed_at, so the landing day decides first; processed_at, then object and line
  -- (later in the same file = later) break ties. Ranked on the narrow version columns only.
  SELECT id, landing_date, source_object, source_line
  FROM {bronze}.distribution_centers
  -- Repeats of an identical raw row within one object never reach silver.
  WHERE NOT is_duplicate_in_file
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY id
    ORDER BY landing_date DESC, processed_at DESC, source_object DESC, source_line DESC) = 1
),
latest AS (
  -- A bronze row is identified by its landing day, object and line.
  SELECT b.*
  FROM {bronze}.distribution_centers AS b
  JOIN winners AS w USING (id, landing_date, source_object, source_line)
  WHERE NOT b.is_duplicate_in_file
)
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
  CAST(NULL AS STRING) AS reject_reason
FROM latest
