-- Incremental embedding in BigQuery: only rows whose text hash is new or changed (or that
-- another model embedded) go through ML.GENERATE_EMBEDDING; the others keep their vectors.
MERGE embeddings.product_catalog AS t
USING (
  SELECT
    product_id, name, category, brand, department, retail_price,
    content AS embedding_text,
    TO_HEX(SHA256(content)) AS text_hash,
    'bigquery:text-embedding-005' AS embedding_model,
    ml_generate_embedding_result AS embedding,
    CURRENT_TIMESTAMP() AS embedded_at
  FROM ML.GENERATE_EMBEDDING(
    MODEL embeddings.text_embedding,
    (
      SELECT s.*, s.embedding_text AS content
      FROM (
        SELECT id AS product_id, name, category, brand, department, retail_price,
               CONCAT(IFNULL(category, ''), ' - ', IFNULL(name, '')) AS embedding_text
        FROM {silver}.products
      ) AS s
      LEFT JOIN embeddings.product_catalog AS e
        ON e.product_id = s.product_id
       AND e.text_hash = TO_HEX(SHA256(s.embedding_text))
       AND e.embedding_model = 'bigquery:text-embedding-005'
      WHERE e.product_id IS NULL
    ),
    STRUCT(TRUE AS flatten_json_output, 'RETRIEVAL_DOCUMENT' AS task_type)
  )
) AS s
ON t.product_id = s.product_id
WHEN MATCHED THEN UPDATE SET
  name = s.name, category = s.category, brand = s.brand, department = s.department,
  retail_price = s.retail_price, embedding_text = s.embedding_text, text_hash = s.text_hash,
  embedding_model = s.embedding_model, embedding = s.embedding, embedded_at = s.embedded_at
WHEN NOT MATCHED THEN INSERT ROW
