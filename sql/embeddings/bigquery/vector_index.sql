-- Approximate nearest-neighbour index on the product vectors (BigQuery keeps it current).
CREATE VECTOR INDEX IF NOT EXISTS product_catalog_embedding
ON embeddings.product_catalog(embedding)
OPTIONS (index_type = 'IVF', distance_type = 'COSINE')
