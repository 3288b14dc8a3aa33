-- embeddings.product_catalog (source rows): one row per silver product and the text embedded.
-- BigQuery Standard SQL; {silver} is a dataset placeholder (ecommerce_assets/sqltables.py).
-- The text is "category - name" (names start with the brand), as the seed asks: the category
-- gives the vector its department of meaning, the name its garment, fabric and fit.
SELECT
  id AS product_id,
  name,
  category,
  brand,
  department,
  retail_price,
  CONCAT(IFNULL(category, ''), ' - ', IFNULL(name, '')) AS embedding_text
FROM {silver}.products
