"""Dagster resources: the warehouse and the object stores (and, later, FX/embedder/…)."""

from resources.keys import (
    InvalidIdentifierError,
    InvalidKeyError,
    validate_identifier,
    validate_key,
)
from resources.object_store import (
    GCSObjectStore,
    LocalObjectStore,
    ObjectInfo,
    ObjectStore,
    store_for_uri,
)
from resources.warehouse import DuckDBWarehouse, Warehouse

__all__ = [
    "DuckDBWarehouse",
    "GCSObjectStore",
    "InvalidIdentifierError",
    "InvalidKeyError",
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectStore",
    "Warehouse",
    "store_for_uri",
    "validate_identifier",
    "validate_key",
]
