"""Synthetic stand-in for ``bigquery-public-data.thelook_ecommerce`` and dirty batches."""
