-- Free-text search: the query embedded by the same remote model, then VECTOR_SEARCH.
SELECT base.product_id, base.name, base.category, 1 - distance AS score
FROM VECTOR_SEARCH(
  TABLE embeddings.product_catalog, 'embedding',
  (
    SELECT ml_generate_embedding_result AS embedding
    FROM ML.GENERATE_EMBEDDING(
      MODEL embeddings.text_embedding,
      (SELECT 'denim trousers' AS content),
      STRUCT(TRUE AS flatten_json_output, 'RETRIEVAL_QUERY' AS task_type))
  ),
  top_k => 10, distance_type => 'COSINE')
ORDER BY distance
