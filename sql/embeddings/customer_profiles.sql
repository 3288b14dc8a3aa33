-- embeddings.customer_profiles (source rows): one row per gold customer and the behaviour
-- sentence embedded (orders, spend, recency, returns, churn risk, favourite categories).
-- BigQuery Standard SQL; {gold} is a dataset placeholder (ecommerce_assets/sqltables.py).
-- Amounts and recency are put in words and buckets, not exact figures: a static embedding
-- reads words, and a sentence that changes only when the behaviour does is re-embedded
-- only then (the asset reuses every vector whose text is unchanged).
WITH items AS (
  SELECT user_id, category, COUNT(*) AS n
  FROM {gold}.orders_enriched
  WHERE category IS NOT NULL AND status <> 'Cancelled'
  GROUP BY user_id, category
),
favourites AS (
  SELECT user_id, STRING_AGG(category, ', ' ORDER BY n DESC, category) AS favourite_categories
  FROM (
    SELECT * FROM items
    WHERE TRUE
    QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY n DESC, category) <= 3
  )
  GROUP BY user_id
)
SELECT
  m.user_id,
  m.country,
  m.lifetime_order_count,
  m.total_spend,
  m.days_since_last_order,
  m.return_rate,
  m.churn_flag,
  f.favourite_categories,
  CONCAT(
    CASE WHEN m.lifetime_order_count >= 4 THEN 'Loyal repeat customer'
         WHEN m.lifetime_order_count >= 2 THEN 'Repeat customer'
         ELSE 'One-time customer' END,
    ' from ', IFNULL(m.country, 'an unknown country'), ': ',
    CAST(m.lifetime_order_count AS STRING),
    IF(m.lifetime_order_count = 1, ' order, ', ' orders, '),
    CASE WHEN m.total_spend >= 300 THEN 'high spender'
         WHEN m.total_spend >= 100 THEN 'medium spender'
         ELSE 'low spender' END,
    ' (about $', CAST(CAST(ROUND(m.total_spend, -1) AS INT64) AS STRING), '), ',
    CASE WHEN m.days_since_last_order <= 30 THEN 'bought in the last month'
         WHEN m.days_since_last_order <= 90 THEN 'bought in the last three months'
         WHEN m.days_since_last_order <= 365 THEN 'last bought this year'
         ELSE 'has not bought for over a year' END, ', ',
    CASE WHEN m.return_rate >= 0.5 THEN 'returns most orders'
         WHEN m.return_rate > 0 THEN 'returns some orders'
         ELSE 'never returns orders' END, ', ',
    IF(m.churn_flag, 'high churn risk', 'low churn risk'),
    '; favourite categories: ', IFNULL(f.favourite_categories, 'none yet')
  ) AS embedding_text
FROM {gold}.customer_metrics AS m
LEFT JOIN favourites AS f ON f.user_id = m.user_id
