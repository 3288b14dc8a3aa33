"""Benchmark: embedding throughput, the embedding assets at scale, and vector search.

    python bench/embeddings.py [--minilm] [--workdir DIR]

- texts/s of the default static embedder (29,120 product texts of the generator at scale
  1.0), and with ``--minilm`` of the optional all-MiniLM-L6-v2 (needs the ``[quality]``
  extra; measured on 1,000 texts);
- ``product_catalog`` from a ``silver.products`` of 29,120 rows in a DuckDB file, first run
  (everything embedded) and after a day that adds 1% and renames 1% (incremental);
- ``customer_profiles`` for 100,000 customers (``gold.customer_metrics`` and
  ``gold.orders_enriched`` made directly in the file: the profile SQL, the embedding and the
  write are what is timed);
- search at 30k and 300k vectors: build time, top-10 latency of exact numpy search and of the
  usearch HNSW index, and the index's recall@10 against exact search (500 queries).
Targets for the default on 2 cores: 29k products <= 5 s, 100k profiles <= 20 s, a query
<= 10 ms. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ecommerce_assets.embeddings.incremental import refresh_embeddings
from ecommerce_assets.embeddings.search import VectorIndex
from ecommerce_assets.embeddings.spec import EMBEDDING_TABLES
from resources.embedder import SentenceTransformerEmbedder, StaticEmbedder
from resources.warehouse import DuckDBWarehouse
from test_data.thelook_ecommerce import reference as ref
from test_data.thelook_ecommerce import synthetic

COLUMNS = ["id", "name", "category", "brand", "department", "retail_price"]


def product_texts(table: pa.Table) -> list[str]:
    return [f"{c} - {n}" for c, n in zip(table.column("category").to_pylist(),
                                         table.column("name").to_pylist(), strict=True)]


def throughput(embedder, texts: list[str]) -> dict:
    embedder.encode(texts[:100])  # load the model outside the timing
    started = time.perf_counter()
    embedder.encode(texts)
    seconds = time.perf_counter() - started
    return {"texts": len(texts), "seconds": round(seconds, 3),
            "texts_per_s": round(len(texts) / seconds)}


def catalog_refresh(workdir: Path, products: pa.Table) -> dict:
    warehouse = DuckDBWarehouse(path=str(workdir / "catalog.duckdb"))
    warehouse.load_table("silver.products", products.select(COLUMNS))
    table, embedder = EMBEDDING_TABLES["product_catalog"], StaticEmbedder()
    embedder.encode(["warm up"])
    first = refresh_embeddings(warehouse, table, embedder)
    n = products.num_rows
    rng = np.random.default_rng(5)
    added = synthetic.products(rng, 0.01, first_id=n + 1).select(COLUMNS)
    names = products.column("name").to_pylist()
    for i in rng.choice(n, n // 100, replace=False):
        names[i] += " Limited Edition"
    changed = products.select(COLUMNS).set_column(1, "name", pa.array(names))
    warehouse.load_table("silver.products", pa.concat_tables([changed, added.cast(
        changed.schema)]))
    second = refresh_embeddings(warehouse, table, embedder)
    return {run: {"rows": r.rows, "embedded": r.embedded, "reused": r.reused,
                  "seconds": round(r.seconds, 3), "encode_seconds": round(r.encode_seconds, 3)}
            for run, r in (("first", first), ("incremental", second))}


def customer_tables(n: int, rng: np.random.Generator) -> tuple[pa.Table, pa.Table]:
    countries = [c for c, *_ in ref.COUNTRIES]
    weights = np.array([w for _, w, _ in ref.COUNTRIES])
    orders = rng.choice([1, 2, 3, 4, 5], n, p=[0.55, 0.25, 0.1, 0.06, 0.04])
    metrics = pa.table({
        "user_id": np.arange(1, n + 1), "email": pa.nulls(n, pa.string()),
        "country": pa.array(countries).take(rng.choice(len(countries), n,
                                                       p=weights / weights.sum())),
        "lifetime_order_count": orders,
        "total_spend": np.round(rng.lognormal(4.3, 0.8, n) * orders, 2),
        "return_rate": rng.integers(0, orders + 1) / orders,
        "days_since_last_order": rng.integers(0, 1500, n),
        "churn_flag": rng.random(n) < 0.6})
    items = int(n * 1.8)
    cats = [c for _, c, *_ in ref.CATEGORIES]
    enriched = pa.table({"user_id": rng.integers(1, n + 1, items),
                         "category": pa.array(cats).take(rng.integers(0, len(cats), items)),
                         "status": pa.array(["Complete"] * items)})
    return metrics, enriched


def profiles_refresh(workdir: Path, n: int) -> dict:
    warehouse = DuckDBWarehouse(path=str(workdir / "profiles.duckdb"))
    metrics, enriched = customer_tables(n, np.random.default_rng(11))
    warehouse.load_table("gold.customer_metrics", metrics)
    warehouse.load_table("gold.orders_enriched", enriched)
    embedder = StaticEmbedder()
    embedder.encode(["warm up"])
    r = refresh_embeddings(warehouse, EMBEDDING_TABLES["customer_profiles"], embedder)
    return {"rows": r.rows, "embedded": r.embedded, "seconds": round(r.seconds, 3),
            "encode_seconds": round(r.encode_seconds, 3), "texts_per_s": round(r.texts_per_s)}


def search_figures(vectors: np.ndarray, model: str, queries: int = 500) -> dict:
    rng = np.random.default_rng(3)
    picks = rng.choice(len(vectors), queries, replace=False)
    # Queries near catalog items, not equal to them: an item's vector plus noise.
    q = vectors[picks] + rng.normal(0, 0.05, (queries, vectors.shape[1])).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    exact = VectorIndex(vectors, model, ann_threshold=len(vectors) + 1)
    started = time.perf_counter()
    truth = [exact.search(x, 10, model)[0] for x in q]
    exact_ms = (time.perf_counter() - started) / queries * 1000
    ann = VectorIndex(vectors, model, ann_threshold=0)
    started = time.perf_counter()
    ann.build()
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    found = [ann.search(x, 10, model)[0] for x in q]
    ann_ms = (time.perf_counter() - started) / queries * 1000
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found, strict=True)])
    return {"vectors": len(vectors), "exact_query_ms": round(exact_ms, 3),
            "ann_build_s": round(build_s, 2), "ann_query_ms": round(ann_ms, 3),
            "ann_recall_at_10": round(float(recall), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minilm", action="store_true", help="also the optional model")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-embeddings-"))
    workdir.mkdir(parents=True, exist_ok=True)
    products = synthetic.products(np.random.default_rng(7), 1.0)
    texts = product_texts(products)
    static = StaticEmbedder()
    out: dict = {"throughput": {"static": throughput(static, texts)}}
    if args.minilm:
        out["throughput"]["minilm"] = throughput(SentenceTransformerEmbedder(), texts[:1000])
    out["product_catalog"] = catalog_refresh(workdir, products)
    out["customer_profiles"] = profiles_refresh(workdir, 100_000)
    vectors = static.encode(texts)
    big = synthetic.products(np.random.default_rng(8), 300_000 / products.num_rows)
    big_vectors = static.encode(product_texts(big))[:300_000]
    out["search"] = [search_figures(vectors, static.model_name),
                     search_figures(big_vectors, static.model_name)]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
