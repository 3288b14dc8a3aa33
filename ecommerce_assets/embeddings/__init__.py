"""The embeddings layer: product and customer vectors, vector search, product clusters."""
