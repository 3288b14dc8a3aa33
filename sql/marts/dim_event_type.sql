-- marts.dim_event_type: every event type of the web events with its step of the purchase
-- funnel (1 browse: home or department, 2 product, 3 cart, 4 purchase; cancel has none),
-- plus the unknown member (-1).
SELECT
  CAST(CONCAT('0x', SUBSTR(TO_HEX(MD5(event_type)), 1, 15)) AS INT64) AS event_type_key,
  event_type,
  CASE event_type
    WHEN 'home' THEN 1
    WHEN 'department' THEN 1
    WHEN 'product' THEN 2
    WHEN 'cart' THEN 3
    WHEN 'purchase' THEN 4
  END AS funnel_step
FROM {silver}.events
WHERE event_type IS NOT NULL
GROUP BY event_type
UNION ALL
SELECT -1, 'Unknown', CAST(NULL AS INT64)
