"""The one switch: ``ECOMMERCE_DEPLOYMENT`` -> the resource set of the code location."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from resources import settings
from resources.addresses import UspsAddressStandardizer
from resources.bigquery import BigQueryWarehouse
from resources.embedder import embedder_from_env
from resources.fx_rates import StaticFxRates
from resources.object_store import GCSObjectStore, LocalObjectStore, store_for_uri
from resources.warehouse import DuckDBWarehouse


def local_resources() -> dict[str, Any]:
    """DuckDB file + bucket folders under ``ECOMMERCE_HOME`` (created on first use).

    Any bucket can live on GCS instead: ``ECOMMERCE_INBOX_URI=gs://my-inbox/prefix`` (and
    ``…_STAGING_URI``, ``…_ARCHIVE_URI``, ``…_QUARANTINE_URI``).
    """
    stores = {f"{b}_store": store_for_uri(settings.bucket_uri(b)) for b in settings.BUCKETS}
    for store in stores.values():
        if isinstance(store, LocalObjectStore):
            Path(store.root).mkdir(parents=True, exist_ok=True)
    inbox = stores["inbox_store"]
    if isinstance(inbox, LocalObjectStore):  # a folder shows files while they are written
        stores["inbox_store"] = LocalObjectStore(root=inbox.root,
                                                 settle_s=settings.inbox_settle_s())
    return {"warehouse": DuckDBWarehouse(path=str(settings.warehouse_path())), **stores,
            # Gold: the static reference FX rates and the deterministic USPS standardizer.
            "fx_rates": StaticFxRates(), "address_standardizer": UspsAddressStandardizer(),
            # Embeddings: the committed static model (ECOMMERCE_EMBEDDER=minilm: the extra).
            "embedder": embedder_from_env()}


def init_local() -> None:
    """Create the local buckets and the warehouse schemas (bronze, silver, gold, ops).

    Run once by ``make dev``; definitions loading does not open the DuckDB file, so a code
    server reload never waits on a run that holds the writer lock.
    """
    resources = local_resources()
    resources["warehouse"].ensure_schemas()


def gcp_resources() -> dict[str, Any]:
    """BigQuery + GCS buckets, from the ``ECOMMERCE_*`` settings (validated here, at load).

    Nothing is contacted at load: clients are built on first use, inside a run.
    """
    gcp = settings.gcp_settings()
    stores = {}
    for bucket, uri in gcp.bucket_uris.items():
        name, _, prefix = uri[len("gs://"):].partition("/")
        stores[f"{bucket}_store"] = GCSObjectStore(bucket=name, prefix=prefix.strip("/"),
                                                   project=gcp.project)
    warehouse = BigQueryWarehouse(
        project=gcp.project, location=gcp.location, dataset_prefix=gcp.dataset_prefix,
        staging_uri=gcp.bucket_uris["staging"], endpoint=gcp.bigquery_endpoint,
        credentials_file=gcp.credentials_file, deployment="gcp")
    return {"warehouse": warehouse, **stores,
            "fx_rates": StaticFxRates(), "address_standardizer": UspsAddressStandardizer(),
            # Vectors computed in BigQuery (ML.GENERATE_EMBEDDING); ECOMMERCE_EMBEDDER=static
            # embeds with the offline model instead (the emulator has no ML functions).
            "embedder": embedder_from_env("gcp")}


def build_resources(deployment: str | None = None) -> dict[str, Any]:
    deployment = deployment or settings.deployment()
    if deployment == "local":
        return local_resources()
    return gcp_resources()
