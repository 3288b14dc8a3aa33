-- The 10 products nearest to product 42 (itself excluded): cosine similarity = 1 - distance.
SELECT base.product_id, base.name, base.category, 1 - distance AS score
FROM VECTOR_SEARCH(
  TABLE embeddings.product_catalog, 'embedding',
  (SELECT embedding FROM embeddings.product_catalog WHERE product_id = 42),
  top_k => 11, distance_type => 'COSINE')
WHERE base.product_id <> 42
ORDER BY distance
LIMIT 10
