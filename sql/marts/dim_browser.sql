-- marts.dim_browser: every browser of the web events, plus the unknown member (-1).
SELECT
  CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(browser)), 1, 15)) AS INT64) AS browser_key,
  browser
FROM {silver}.events
WHERE browser IS NOT NULL
GROUP BY browser
UNION ALL
SELECT -1, 'Unknown'
