-- BigQuery only (seed §4): register the remote function bronze.convert_to_usd(price, currency)
-- -> price in USD, served by a Cloud Run function (see README.md in this folder).
-- Replace {project} with your project id and {region} with the connection's location
-- (e.g. us); {bronze} is the bronze dataset. Edit the endpoint to your service's URL.
CREATE OR REPLACE FUNCTION `{project}.{bronze}.convert_to_usd`(price FLOAT64, currency STRING)
RETURNS FLOAT64
REMOTE WITH CONNECTION `{project}.{region}.fx-remote`
OPTIONS (
  endpoint = 'https://convert-to-usd-abcdefghij-uc.a.run.app',
  max_batching_rows = 1000
)
