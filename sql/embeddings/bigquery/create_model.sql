-- The remote text-embedding model the gcp deployment embeds with (BigQuery ML).
CREATE MODEL IF NOT EXISTS embeddings.text_embedding
  REMOTE WITH CONNECTION `us.vertex_ai`
  OPTIONS (ENDPOINT = 'text-embedding-005')
