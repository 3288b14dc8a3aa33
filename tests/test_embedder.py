"""Contract of the offline default embedder and its committed artifact."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from resources.embedder import (
    DEFAULT_STATIC_MODEL,
    MODELS_DIR,
    BigQueryMLEmbedder,
    StaticEmbedder,
    embedder_from_env,
    load_static_model,
)

MODEL_DIR = MODELS_DIR / DEFAULT_STATIC_MODEL
TEXTS = ["Jeans - Levi's Men's 505 Regular Fit Jean", "warm winter coat",
         "Swim - Quiksilver Men's Surf Boardshort", "cashmere jumper", "soft cotton " * 1000]


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


def test_shape_dtype_unit_norm(embedder: StaticEmbedder) -> None:
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), embedder.dim) == (5, 256)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_deterministic_and_batch_independent(embedder: StaticEmbedder) -> None:
    once = embedder.encode(TEXTS)
    np.testing.assert_array_equal(once, embedder.encode(TEXTS))
    # A text's vector does not depend on its batch neighbours or the batch size.
    small = StaticEmbedder(batch_size=2).encode(TEXTS)
    np.testing.assert_allclose(small, once, atol=1e-6)
    np.testing.assert_allclose(embedder.encode([TEXTS[2]])[0], once[2], atol=1e-6)


def test_empty_inputs(embedder: StaticEmbedder) -> None:
    assert embedder.encode([]).shape == (0, 256)
    blank = embedder.encode(["", "   "])
    assert blank.shape == (2, 256) and not blank.any()  # no token: a zero row, not NaN


def test_numpy_runtime_reproduces_model2vec(embedder: StaticEmbedder) -> None:
    """The reference vectors were computed by model2vec itself when the model was distilled;
    the numpy + tokenizers runtime must give the same vectors."""
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
    got = embedder.encode(manifest["reference"]["texts"])
    np.testing.assert_allclose(got, np.array(manifest["reference"]["vectors"]), atol=1e-5)


def test_similar_texts_score_higher(embedder: StaticEmbedder) -> None:
    q, jeans, coat = embedder.encode(["denim trousers", "Jeans - Lee Men's Bootcut Jean",
                                      "Outerwear & Coats - Columbia Men's Down Parka"])
    assert q @ jeans > q @ coat


def test_artifact_is_small_licensed_and_checksummed() -> None:
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
    size = sum(p.stat().st_size for p in MODEL_DIR.iterdir())
    assert size < 20e6
    assert "Apache License" in (MODEL_DIR / "LICENSE").read_text()
    assert manifest["source_sha256"]["model.safetensors"].startswith("53aa5117")
    assert set(manifest["files_sha256"]) == {"embeddings.npy", "tokenizer.json"}


def test_corrupted_artifact_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(MODEL_DIR, copy)
    data = bytearray((copy / "embeddings.npy").read_bytes())
    data[-1] ^= 0xFF
    (copy / "embeddings.npy").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256"):
        load_static_model(str(copy))


def test_embedder_choice_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOMMERCE_EMBEDDER", raising=False)
    assert isinstance(embedder_from_env(), StaticEmbedder)
    monkeypatch.setenv("ECOMMERCE_EMBEDDER", "gpt")
    with pytest.raises(ValueError, match="ECOMMERCE_EMBEDDER"):
        embedder_from_env()
    # Unset on gcp: vectors computed in BigQuery; asked for off gcp: one clear sentence.
    monkeypatch.delenv("ECOMMERCE_EMBEDDER")
    bq = embedder_from_env("gcp")
    assert isinstance(bq, BigQueryMLEmbedder) and bq.in_warehouse
    assert (bq.model_name, bq.dim) == ("bigquery:text-embedding-005", 768)
    monkeypatch.setenv("ECOMMERCE_EMBEDDER", "bigquery")
    with pytest.raises(ValueError, match="needs ECOMMERCE_DEPLOYMENT=gcp"):
        embedder_from_env("local")
    monkeypatch.setenv("ECOMMERCE_BQ_EMBEDDING_MODEL", "x; DROP TABLE y")
    with pytest.raises(ValueError, match="ECOMMERCE_BQ_EMBEDDING_MODEL"):
        embedder_from_env("gcp")
    monkeypatch.setenv("ECOMMERCE_BQ_EMBEDDING_MODEL", "ml.my_model")
    monkeypatch.setenv("ECOMMERCE_BQ_EMBEDDING_ENDPOINT", "text-embedding' OR 1")
    with pytest.raises(ValueError, match="ECOMMERCE_BQ_EMBEDDING_ENDPOINT"):
        embedder_from_env("gcp")


def test_bigquery_embedding_sql_is_valid_bigquery() -> None:
    """ML.GENERATE_EMBEDDING cannot run here (the emulator has no ML functions): the SQL
    must parse as BigQuery, call the configured model, and pass every source column on."""
    import sqlglot

    sql = BigQueryMLEmbedder(model="ml.my_model").embedding_sql(
        "SELECT 1 AS product_id, 'Jeans - Levi 505' AS embedding_text")
    tree = sqlglot.parse_one(sql, read="bigquery")
    assert "ML.GENERATE_EMBEDDING(MODEL ml.my_model," in sql
    assert "'RETRIEVAL_DOCUMENT' AS task_type" in sql and "768 AS output_dimensionality" in sql
    assert [e.alias_or_name for e in tree.selects] == ["*", "embedding", "embedding_status"]
    with pytest.raises(ValueError, match="task_type"):
        BigQueryMLEmbedder().embedding_sql("SELECT 1", task_type="x' OR 1")
