"""The embedding assets on a real DuckDB file: incremental embedding, checks, search, CLI.

``silver.products`` is loaded straight from the generator (the silver SQL is tested
elsewhere); ``customer_profiles`` runs on the generated pipeline's gold tables.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import ClassVar

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from ecommerce_assets.automation import WAREHOUSE_POOL
from ecommerce_assets.cli import main as cli_main
from ecommerce_assets.embeddings import search
from ecommerce_assets.embeddings.assets import embedding_assets
from ecommerce_assets.embeddings.incremental import arrow_to_vectors, refresh_embeddings
from ecommerce_assets.embeddings.spec import EMBEDDING_TABLES
from resources.embedder import Embedder, StaticEmbedder, normalise
from resources.warehouse import DuckDBWarehouse
from test_data.thelook_ecommerce import synthetic

CATALOG = EMBEDDING_TABLES["product_catalog"]
PRODUCT_COLUMNS = ["id", "name", "category", "brand", "department", "retail_price"]


class LettersEmbedder(Embedder):
    """Another real (if crude) model: letter counts. Its vectors must never meet the
    static model's."""

    @property
    def model_name(self) -> str:
        return "letters-26"

    @property
    def dim(self) -> int:
        return 26

    def encode(self, texts):
        codes = [np.frombuffer(t.lower().encode(), np.uint8) - ord("a") for t in texts]
        counts = [np.bincount(c[c < 26], minlength=26) for c in codes]
        return normalise(np.array(counts, np.float32).reshape(len(texts), 26))


def products(n_scale: float, seed: int = 3, first_id: int = 1) -> pa.Table:
    return synthetic.products(np.random.default_rng(seed), n_scale,
                              first_id=first_id).select(PRODUCT_COLUMNS)


@pytest.fixture
def warehouse(ecommerce_home: Path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(path=str(ecommerce_home / "warehouse.duckdb"))
    wh.load_table("silver.products", products(0.02))
    return wh


def materialize(warehouse: DuckDBWarehouse, embedder: Embedder | None = None,
                name: str = "product_catalog") -> dg.ExecuteInProcessResult:
    asset = next(a for a in embedding_assets if a.key.path[-1] == name)
    return dg.materialize([asset], resources={"warehouse": warehouse,
                                              "embedder": embedder or StaticEmbedder()})


def metadata(result: dg.ExecuteInProcessResult) -> dict:
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def catalog(warehouse: DuckDBWarehouse) -> pa.Table:
    return warehouse.query_arrow("SELECT * FROM embeddings.product_catalog ORDER BY product_id")


def test_first_run_embeds_everything_and_every_check_passes(warehouse) -> None:
    result = materialize(warehouse)
    assert result.success
    n = warehouse.query_arrow("SELECT COUNT(*) AS n FROM silver.products").to_pylist()[0]["n"]
    meta = metadata(result)
    assert (meta["dagster/row_count"], meta["embedded"], meta["reused"], meta["removed"]) == (
        n, n, 0, 0)
    assert meta["embedding_model"] == "minilm-l6-v2-static-256"
    checks = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert checks == {"pandera_schema": True, "one_embedding_model": True,
                      "text_hash_matches_text": True}
    table = catalog(warehouse)
    vectors = arrow_to_vectors(table.column("embedding"), 256)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The stored vector is the embedder's vector of the stored text.
    texts = table.column("embedding_text").to_pylist()
    np.testing.assert_allclose(vectors[:20], StaticEmbedder().encode(texts[:20]), atol=1e-6)
    assert texts[0] == f"{table['category'][0]} - {table['name'][0]}"


def test_a_batch_embeds_exactly_the_new_and_changed_rows(warehouse) -> None:
    assert materialize(warehouse).success
    before = catalog(warehouse)
    silver = warehouse.query_arrow("SELECT * FROM silver.products ORDER BY id")
    n_new, n_changed, n_removed = 7, 5, 3
    new = products(0.02, seed=9, first_id=10_000).slice(0, n_new)
    # Changed: a new name for 5 products; a new price for 10 others (text unchanged).
    names = silver.column("name").to_pylist()
    for i in range(n_changed):
        names[i] = names[i] + " Limited Edition"
    prices = pc.add(silver.column("retail_price"), pa.scalar(1.0)).to_pylist()
    price_changed = list(range(n_changed, n_changed + 10))
    retail = [prices[i] if i in price_changed else p
              for i, p in enumerate(silver.column("retail_price").to_pylist())]
    updated = (silver.set_column(1, "name", pa.array(names))
               .set_column(5, "retail_price", pa.array(retail))
               .slice(0, silver.num_rows - n_removed))
    warehouse.load_table("silver.products", pa.concat_tables([updated, new.cast(silver.schema)]))

    meta = metadata(materialize(warehouse))
    assert meta["embedded"] == n_new + n_changed
    assert meta["removed"] == n_removed
    assert meta["reused"] == silver.num_rows - n_removed - n_changed
    assert meta["dagster/row_count"] == silver.num_rows - n_removed + n_new

    after = {r["product_id"]: r for r in catalog(warehouse).to_pylist()}
    old = {r["product_id"]: r for r in before.to_pylist()}
    kept = [i for i in old if i in after][n_changed:]
    # Reused rows keep their vector and embedded_at; their attributes are fresh.
    assert all(after[i]["embedding"] == old[i]["embedding"] for i in kept)
    assert all(after[i]["embedded_at"] == old[i]["embedded_at"] for i in kept)
    assert after[price_changed[0] + 1]["retail_price"] == pytest.approx(
        old[price_changed[0] + 1]["retail_price"] + 1.0)
    changed = sorted(old)[0]
    assert after[changed]["embedding_text"].endswith("Limited Edition")
    np.testing.assert_allclose(after[changed]["embedding"], StaticEmbedder().encode(
        [after[changed]["embedding_text"]])[0], atol=1e-6)
    # Nothing to do: everything reused.
    meta = metadata(materialize(warehouse))
    assert (meta["embedded"], meta["removed"]) == (0, 0)


def test_another_model_re_embeds_everything_and_is_never_mixed(warehouse) -> None:
    assert materialize(warehouse).success
    result = materialize(warehouse, LettersEmbedder())
    meta = metadata(result)
    assert meta["embedded"] == meta["dagster/row_count"] and meta["reused"] == 0
    models = warehouse.query_arrow(
        "SELECT DISTINCT embedding_model AS m FROM embeddings.product_catalog").to_pylist()
    assert models == [{"m": "letters-26"}]
    # Searching those vectors with the static model is refused, not silently wrong.
    with pytest.raises(search.ModelMismatch):
        search.load_table(warehouse, CATALOG, StaticEmbedder().model_name)
    loaded = search.load_table(warehouse, CATALOG, "letters-26")
    with pytest.raises(search.ModelMismatch):
        loaded.index.search(np.zeros(26, np.float32), 5, "minilm-l6-v2-static-256")


class InWarehouseEmbedder(Embedder):
    """An in-warehouse embedder DuckDB can run: the vector is computed by SQL from the text
    (its length and a constant), and texts containing 'FAIL' come back with a status, as
    ML.GENERATE_EMBEDDING reports a row it could not embed."""

    in_warehouse: ClassVar[bool] = True

    @property
    def model_name(self) -> str:
        return "sql-length-2"

    @property
    def dim(self) -> int:
        return 2

    def embedding_sql(self, rows_sql: str, task_type: str = "RETRIEVAL_DOCUMENT") -> str:
        return ("SELECT r.*, [CAST(LENGTH(r.embedding_text) AS FLOAT64), 1.0] AS embedding, "
                "IF(STRPOS(r.embedding_text, 'FAIL') > 0, 'quota exceeded', '') "
                f"AS embedding_status FROM ({rows_sql}) AS r")

    def encode(self, texts):
        raise AssertionError("an in-warehouse embedder's texts never reach Python")


def test_an_in_warehouse_embedder_stages_by_sql_and_leaves_failed_rows_for_the_next_run(
        warehouse) -> None:
    silver = warehouse.query_arrow("SELECT * FROM silver.products ORDER BY id")
    names = silver.column("name").to_pylist()
    names[0], names[1] = names[0] + " FAIL", names[1] + " FAIL"
    warehouse.load_table("silver.products", silver.set_column(1, "name", pa.array(names)))

    result = materialize(warehouse, InWarehouseEmbedder())
    meta = metadata(result)
    assert (meta["embedded"], meta["failed"]) == (silver.num_rows - 2, 2)
    assert meta["dagster/row_count"] == silver.num_rows - 2  # failed rows are not stored
    assert all(c.passed for c in result.get_asset_check_evaluations())
    row = catalog(warehouse).to_pylist()[0]
    assert row["embedding"] == [float(len(row["embedding_text"])), 1.0]
    assert row["embedding_model"] == "sql-length-2"

    # The failed rows are pending again; once they embed, only they are embedded.
    names[0], names[1] = names[0].replace(" FAIL", ""), names[1].replace(" FAIL", "")
    warehouse.load_table("silver.products", silver.set_column(1, "name", pa.array(names)))
    meta = metadata(materialize(warehouse, InWarehouseEmbedder()))
    assert (meta["embedded"], meta["failed"], meta["reused"]) == (2, 0, silver.num_rows - 2)
    assert not warehouse.table_exists(CATALOG.staging_table)


def test_each_products_nearest_neighbour_is_itself(warehouse) -> None:
    assert materialize(warehouse).success
    loaded = search.load_table(warehouse, CATALOG, StaticEmbedder().model_name)
    vectors = loaded.index.vectors
    for i in range(0, len(vectors), 7):
        rows, scores = loaded.index.search(vectors[i], 3, loaded.index.model_name)
        assert rows[0] == i and scores[0] == pytest.approx(1.0, abs=1e-5)
    similar = search.similar(loaded, int(loaded.keys[0]), 5)
    assert len(similar) == 5 and all(r["product_id"] != loaded.keys[0] for r in similar)
    assert [r["score"] for r in similar] == sorted((r["score"] for r in similar), reverse=True)


def test_ann_index_matches_exact_search_and_is_rebuilt_when_the_table_changes(
        warehouse) -> None:
    assert materialize(warehouse).success
    model = StaticEmbedder().model_name
    exact = search.load_table(warehouse, CATALOG, model)
    ann = search.load_table(warehouse, CATALOG, model, ann_threshold=10)
    assert ann.index.uses_ann and search.index_path(CATALOG).is_file()
    queries = exact.index.vectors[::25]
    recall = np.mean([len(set(exact.index.search(q, 10, model)[0])
                          & set(ann.index.search(q, 10, model)[0])) / 10 for q in queries])
    assert recall >= 0.95
    first = json.loads(search.index_path(CATALOG).with_suffix(".json").read_text())
    warehouse.execute("DELETE FROM silver.products WHERE id <= 5")
    assert materialize(warehouse).success
    again = search.load_table(warehouse, CATALOG, model, ann_threshold=10)
    second = json.loads(search.index_path(CATALOG).with_suffix(".json").read_text())
    assert second["fingerprint"] != first["fingerprint"] == ann.fingerprint
    assert second["rows"] == len(again.keys) == len(exact.keys) - 5


def test_empty_catalog(warehouse) -> None:
    warehouse.execute("DELETE FROM silver.products")
    result = materialize(warehouse)
    assert result.success and metadata(result)["dagster/row_count"] == 0
    with pytest.raises(search.EmptyTable):
        search.load_table(warehouse, CATALOG, StaticEmbedder().model_name)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    from contextlib import redirect_stderr, redirect_stdout

    with redirect_stdout(out), redirect_stderr(err):
        code = cli_main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_cli_commands(warehouse) -> None:
    code, _, err = run_cli("similar-products", "1")
    assert code == 2 and "does not exist yet" in err
    assert materialize(warehouse).success
    code, out, _ = run_cli("similar-products", "1", "-k", "4", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 4
    assert set(rows[0]) >= {"product_id", "score", "name", "category"}
    assert all(r["product_id"] != 1 for r in rows)
    code, out, _ = run_cli("search-products", "denim trousers", "-k", "10", "--json")
    rows = json.loads(out)
    assert code == 0 and sum(r["category"] == "Jeans" for r in rows) >= 7
    code, out, _ = run_cli("search-products", "winter coat")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["product_id", "score", "name"]
    code, out, err = run_cli("similar-products", "999999")
    assert code == 2 and out == "" and err.count("\n") == 1 and "no product_id 999999" in err
    code, _, err = run_cli("lookalike-customers", "1", "--json")
    assert code == 2 and "customer_profiles does not exist yet" in err
    warehouse.execute("DELETE FROM silver.products")
    assert materialize(warehouse).success
    code, _, err = run_cli("search-products", "jeans")
    assert code == 2 and "is empty" in err


def test_asset_definitions() -> None:
    by_name = {a.key.path[-1]: a for a in embedding_assets}
    assert set(by_name) == {"product_catalog", "customer_profiles"}
    for asset in by_name.values():
        assert asset.group_names_by_key[asset.key] == "embeddings"
        assert asset.op.pool == WAREHOUSE_POOL
        assert asset.automation_conditions_by_key[asset.key] is not None
    assert {k.to_user_string() for k in by_name["product_catalog"].dependency_keys} == {
        "silver/products"}
    assert {k.to_user_string() for k in by_name["customer_profiles"].dependency_keys} == {
        "gold/customer_metrics", "gold/orders_enriched"}


def test_customer_profiles_on_generated_gold(generated_silver, monkeypatch) -> None:
    from ecommerce_assets.gold.assets import gold_definitions
    from tests.conftest import LAST_DAY

    monkeypatch.setenv("ECOMMERCE_HOME", str(generated_silver.home))
    monkeypatch.setenv("ECOMMERCE_AS_OF", LAST_DAY.isoformat())
    resources = {**generated_silver.resources, "embedder": StaticEmbedder()}
    warehouse = resources["warehouse"]
    if not warehouse.table_exists("gold.customer_metrics"):
        assert dg.materialize(gold_definitions, resources=resources).success
    report = refresh_embeddings(warehouse, EMBEDDING_TABLES["customer_profiles"],
                                StaticEmbedder())
    customers = warehouse.query_arrow(
        "SELECT COUNT(*) AS n FROM gold.customer_metrics").to_pylist()[0]["n"]
    assert report.rows == customers > 0
    result = materialize(warehouse, name="customer_profiles")
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    meta = metadata(result)
    assert (meta["embedded"], meta["reused"]) == (0, customers)
    (row,) = warehouse.query_arrow(
        "SELECT * FROM embeddings.customer_profiles WHERE favourite_categories IS NOT NULL "
        "ORDER BY user_id LIMIT 1").to_pylist()
    assert row["embedding_text"].endswith(f"favourite categories: {row['favourite_categories']}")
    assert f"{row['lifetime_order_count']} order" in row["embedding_text"]
    monkeypatch.setenv("ECOMMERCE_HOME", str(generated_silver.home))
    code, out, _ = run_cli("lookalike-customers", str(row["user_id"]), "-k", "3", "--json")
    assert code == 0 and len(json.loads(out)) == 3


def test_product_clusters_follow_the_categories(warehouse, ecommerce_home: Path) -> None:
    from ecommerce_assets.embeddings.assets import product_clusters

    resources = {"warehouse": warehouse, "embedder": StaticEmbedder()}
    warehouse.execute("DELETE FROM silver.products")
    assert materialize(warehouse).success
    empty = dg.materialize([product_clusters], resources=resources)
    assert empty.success and metadata(empty)["dagster/row_count"] == 0

    warehouse.load_table("silver.products", products(0.05))
    assert materialize(warehouse).success
    result = dg.materialize([product_clusters], resources=resources)
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    meta = metadata(result)
    n = len(catalog(warehouse))
    assert meta["dagster/row_count"] == n
    assert meta["clusters"] > 20
    # Clusters of a good embedding are mostly one category each.
    assert meta["mean_purity"] >= 0.6
    png = (ecommerce_home / "reports" / "product_clusters.png").read_bytes()
    assert png.startswith(b"\x89PNG") and f"Products\x00{n}".encode() in png
    assert meta["cluster_map"].startswith("![product clusters](data:image/png;base64,")
    again = metadata(dg.materialize([product_clusters], resources=resources))
    assert again["cluster_summary"] == meta["cluster_summary"]  # deterministic
