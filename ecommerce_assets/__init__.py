"""The e-commerce medallion Dagster code location.

Kept import-light on purpose: the data generators import ``ecommerce_assets.formats``
without loading Dagster definitions.
"""
