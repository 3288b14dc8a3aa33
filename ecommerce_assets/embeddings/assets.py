"""The ``embeddings/<table>`` assets: vectors of products and customers, kept up to date.

Each asset depends on the silver/gold tables its source SQL reads, refreshes when one of them
is updated (the same automation as gold), runs in the warehouse pool, embeds only rows whose
text is new or changed and reports embedded / reused / removed counts. Its checks run with
each materialization: the Pandera schema (blocking) and the vector rules (one model, its
dimension; the stored hash is the text's).
"""

import dagster as dg
import numpy as np

from ecommerce_assets import catalog, table_checks
from ecommerce_assets.automation import (
    WAREHOUSE_POOL,
    WAREHOUSE_RETRY,
    refresh_on_upstream_change,
)
from ecommerce_assets.embeddings import clusters, search
from ecommerce_assets.embeddings.incremental import refresh_embeddings
from ecommerce_assets.embeddings.schemas import ProductClusters
from ecommerce_assets.embeddings.spec import (
    EMBEDDING_TABLES,
    EMBEDDINGS_DATASET,
    VECTOR_COLUMNS,
    EmbeddingTable,
)
from ecommerce_assets.gold.assets import table_columns
from ecommerce_assets.quality import markdown_preview
from ecommerce_assets.sqltables import column_lineage, column_sources, definition_metadata
from resources import settings
from resources.embedder import Embedder
from resources.files import write_atomically
from resources.warehouse import Warehouse


def asset_key(table: str) -> dg.AssetKey:
    return dg.AssetKey(["embeddings", table])


def check_specs(table: EmbeddingTable) -> list[dg.AssetCheckSpec]:
    key = asset_key(table.name)
    return [table_checks.schema_spec(key, "embeddings"),
            *(table_checks.rule_spec(key, r) for r in table.rules("", 0))]


def preview(warehouse: Warehouse, table: EmbeddingTable) -> str:
    cols = ", ".join([table.key, *table.display, "embedding_text", "embedding_model"])
    rows = warehouse.query_arrow(f"SELECT {cols} FROM {warehouse.quote(table.warehouse_table)} "
                                 f"ORDER BY {table.key} LIMIT 5")
    return markdown_preview(rows)


def materialize(context: dg.AssetExecutionContext, table: EmbeddingTable) -> dg.MaterializeResult:
    warehouse: Warehouse = context.resources.warehouse
    embedder: Embedder = context.resources.embedder
    report = refresh_embeddings(warehouse, table, embedder)
    context.log.info(f"{table.warehouse_table}: {report.rows} rows, {report.embedded} embedded, "
                     f"{report.reused} reused, {report.removed} removed in "
                     f"{report.seconds:.2f} s")
    if report.failed:
        context.log.warning(f"{table.warehouse_table}: {report.failed} rows could not be "
                            "embedded (see embedding_status); the next materialization "
                            "retries them")
    metadata: dict = {
        "dagster/row_count": report.rows,
        "embedded": report.embedded,
        "reused": report.reused,
        "removed": report.removed,
        "failed": report.failed,
        "embedding_model": embedder.model_name,
        "embedding_dim": embedder.dim,
        "refresh_seconds": round(report.seconds, 3),
        "texts_per_second": round(report.texts_per_s),
        "preview": dg.MetadataValue.md(preview(warehouse, table)),
    }
    if report.rows > search.ANN_THRESHOLD:
        # Big enough for the ANN index: (re)built now, so searches find it ready.
        loaded = search.load_table(warehouse, table, embedder.model_name)
        metadata["ann_index"] = dg.MetadataValue.path(str(search.index_path(table)))
        metadata["ann_fingerprint"] = loaded.fingerprint
    checks = [table_checks.schema_result(warehouse, table.warehouse_table, table.schema),
              *(table_checks.rule_result(warehouse, table.warehouse_table, r)
                for r in table.rules(embedder.model_name, embedder.dim))]
    return dg.MaterializeResult(metadata=metadata, check_results=checks)


# Columns the asset computes in Python from ``embedding_text`` (its hash, its vector).
FROM_TEXT = ("text_hash", "embedding")


def lineage_metadata(table: EmbeddingTable) -> dict:
    """``dagster/column_lineage``: the source columns from the silver and gold columns the
    source SQL uses; the hash and the vector from those of ``embedding_text``; the model name
    and the time from none."""
    sources = column_sources(table.source_sql(), {(d, t): table_columns(d, t)
                                                  for d, t in table.reads})
    sources.update({c: sources["embedding_text"] if c in FROM_TEXT else ()
                    for c in VECTOR_COLUMNS})
    return {"dagster/column_lineage": column_lineage(sources, table.schema.columns)}


def embedding_asset(table: EmbeddingTable) -> dg.AssetsDefinition:
    def compute(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return materialize(context, table)

    return dg.asset(
        key=asset_key(table.name),
        group_name="embeddings",
        deps=[dg.AssetKey([d, t]) for d, t in table.reads if d in ("silver", "gold")],
        kinds={"python", settings.warehouse_kind()},
        description=f"{table.description} Source rows: `{table.sql_file}`.",
        metadata={**definition_metadata(table.warehouse_table, table.schema, table.sql_file),
                  **lineage_metadata(table),
                  **catalog.code_references(
                      sql=table.sql_path,
                      python=[(table.model, "Pandera model (contract)"),
                              (embedding_asset, "Asset factory"),
                              (refresh_embeddings, "Incremental refresh")])},
        tags=catalog.tags("embeddings", table.name),
        owners=catalog.owners("embeddings"),
        check_specs=check_specs(table),
        required_resource_keys={"warehouse", "embedder"},
        automation_condition=refresh_on_upstream_change(),
        pool=WAREHOUSE_POOL,
        retry_policy=WAREHOUSE_RETRY,
    )(compute)


embedding_assets: list[dg.AssetsDefinition] = [
    embedding_asset(t) for t in EMBEDDING_TABLES.values()]
# The assets as definitions.py takes them (product_clusters is appended below).
embedding_definitions: list[dg.AssetsDefinition] = [*embedding_assets]


CLUSTERS_TABLE = f"{EMBEDDINGS_DATASET}.product_clusters"
CLUSTERS_FILE = "product_clusters.png"
CLUSTERS_SCHEMA = ProductClusters.to_schema()


@dg.asset(
    key=asset_key("product_clusters"),
    group_name="embeddings",
    deps=[asset_key("product_catalog")],
    kinds={"python", settings.warehouse_kind()},
    description="k-means clusters of the product vectors (one per category by default) and "
                "a 2-D map of them (PCA) on this page; purity = share of a cluster's most "
                "common category.",
    metadata={**definition_metadata(CLUSTERS_TABLE, CLUSTERS_SCHEMA),
              **catalog.code_references(python=[(ProductClusters, "Pandera model (contract)"),
                                                 (clusters, "Clustering and map")])},
    tags=catalog.tags("embeddings", "product_clusters"),
    owners=catalog.owners("embeddings"),
    check_specs=[table_checks.schema_spec(asset_key("product_clusters"), "embeddings")],
    required_resource_keys={"warehouse", "embedder"},
    automation_condition=refresh_on_upstream_change(),
    pool=WAREHOUSE_POOL,
    retry_policy=WAREHOUSE_RETRY,
)
def product_clusters(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    warehouse: Warehouse = context.resources.warehouse
    embedder: Embedder = context.resources.embedder
    table = EMBEDDING_TABLES["product_catalog"]
    try:
        loaded = search.load_table(warehouse, table, embedder.model_name,
                                   ann_threshold=2**62)  # vectors only: no index needed here
    except search.EmptyTable as exc:  # nothing to cluster yet: an empty table, not a failure
        context.log.warning(str(exc))
        warehouse.load_table(CLUSTERS_TABLE, clusters.cluster_table(
            np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 2)),
            embedder.model_name))
        return dg.MaterializeResult(
            metadata={"dagster/row_count": 0, "clusters": 0},
            check_results=[table_checks.schema_result(warehouse, CLUSTERS_TABLE,
                                                      CLUSTERS_SCHEMA)])
    categories = loaded.info.column("category").to_pylist()
    k = len({c for c in categories if c}) or 1
    labels, points, image = clusters.cluster_map(loaded.index.vectors, categories, k)
    warehouse.load_table(CLUSTERS_TABLE, clusters.cluster_table(
        loaded.keys, labels, points, embedder.model_name))
    path = write_atomically(settings.reports_dir() / CLUSTERS_FILE, image.png)
    purity = float(np.average([c["purity"] for c in image.clusters],
                              weights=[c["size"] for c in image.clusters]))
    return dg.MaterializeResult(
        metadata={"dagster/row_count": len(loaded.keys), "clusters": len(image.clusters),
                  "mean_purity": round(purity, 3),
                  "cluster_map": dg.MetadataValue.md(image.markdown()),
                  "cluster_map_path": dg.MetadataValue.path(str(path)),
                  "cluster_summary": dg.MetadataValue.json(image.clusters)},
        check_results=[table_checks.schema_result(warehouse, CLUSTERS_TABLE, CLUSTERS_SCHEMA)])


embedding_definitions.append(product_clusters)
