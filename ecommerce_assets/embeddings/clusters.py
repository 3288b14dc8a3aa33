"""``embeddings/product_clusters``: k-means over the product vectors, and a 2-D map of them.

Spherical k-means (cosine, k-means++ seeding, a fixed seed: the same catalog gives the same
clusters) in numpy, on the vectors of ``product_catalog`` only (a few MB at scale 1.0). The
2-D projection is PCA of the vectors (two principal axes, by SVD of the centred matrix); the
plot colours each product by its cluster and labels each cluster with its most common
category, saved under ``$ECOMMERCE_HOME/reports/`` and shown on the asset's page like the
cohort heatmap. Each cluster's purity (share of its most common category) is reported.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

SEED = 12
PLOT_POINTS = 20_000  # products drawn on the map at most (a uniform sample beyond that)


def kmeans(vectors: np.ndarray, k: int, iterations: int = 25,
           seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """(labels, unit centroids) of spherical k-means; k-means++ seeding on cosine distance."""
    n = len(vectors)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centroids = np.empty((k, vectors.shape[1]), np.float32)
    centroids[0] = vectors[rng.integers(n)]
    distance = 1 - vectors @ centroids[0]
    for i in range(1, k):
        weights = np.clip(distance, 0, None) ** 2
        pick = rng.choice(n, p=weights / weights.sum()) if weights.sum() > 0 else rng.integers(n)
        centroids[i] = vectors[pick]
        distance = np.minimum(distance, 1 - vectors @ centroids[i])
    labels = np.zeros(n, np.int64)
    for _ in range(iterations):
        new = np.argmax(vectors @ centroids.T, axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        members = np.zeros((k, n), np.float32)  # one-hot: a matmul sums each cluster
        members[labels, np.arange(n)] = 1
        sums = members @ vectors
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        centroids = np.where(empty[:, None], centroids, sums / np.where(norms == 0, 1, norms))
    return labels, centroids


def project_2d(vectors: np.ndarray) -> np.ndarray:
    """The vectors on their two principal axes (PCA by SVD)."""
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


@dataclass(frozen=True)
class ClusterMap:
    png: bytes
    clusters: list[dict]  # per cluster: size, top category, purity

    def markdown(self) -> str:
        data = base64.b64encode(self.png).decode("ascii")
        return f"![product clusters](data:image/png;base64,{data})"


def summarize(labels: np.ndarray, categories: list[str | None], k: int) -> list[dict]:
    out = []
    for c in range(k):
        members = [categories[i] or "?" for i in np.flatnonzero(labels == c)]
        if not members:
            continue
        top, count = Counter(members).most_common(1)[0]
        out.append({"cluster": c, "size": len(members), "top_category": top,
                    "purity": round(count / len(members), 3)})
    return out


def render(points: np.ndarray, labels: np.ndarray, summary: list[dict]) -> bytes:
    # Imported here, not at module level: matplotlib costs ~0.5 s to import, and every run
    # process loads this code location; only the step that renders needs it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rng = np.random.default_rng(SEED)
    shown = (rng.choice(len(points), PLOT_POINTS, replace=False)
             if len(points) > PLOT_POINTS else np.arange(len(points)))
    fig = Figure(figsize=(11, 8), dpi=80, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.scatter(points[shown, 0], points[shown, 1], c=labels[shown], cmap="tab20", s=4,
               alpha=0.6, linewidths=0)
    for row in summary:
        centre = np.median(points[labels == row["cluster"]], axis=0)
        ax.annotate(f"{row['top_category']} ({row['size']})", centre, fontsize=7,
                    ha="center", bbox={"boxstyle": "round", "fc": "white", "alpha": 0.7})
    ax.set_title(f"Product embeddings: {len(summary)} clusters, 2-D PCA projection "
                 f"({len(points)} products)")
    ax.set_xticks([])
    ax.set_yticks([])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Title": "Product clusters",
                                                "Clusters": str(len(summary)),
                                                "Products": str(len(points)),
                                                "Software": None})
    return buffer.getvalue()


def cluster_table(keys: np.ndarray, labels: np.ndarray, points: np.ndarray,
                  model: str) -> pa.Table:
    return pa.table({"product_id": pa.array(keys, pa.int64()),
                     "cluster": pa.array(labels, pa.int64()),
                     "x": pa.array(points[:, 0], pa.float64()),
                     "y": pa.array(points[:, 1], pa.float64()),
                     "embedding_model": pa.array([model] * len(keys), pa.string())})


def cluster_map(vectors: np.ndarray, categories: list[str | None],
                k: int) -> tuple[np.ndarray, np.ndarray, ClusterMap]:
    labels, _ = kmeans(vectors, k)
    points = project_2d(vectors)
    summary = summarize(labels, categories, k)
    return labels, points, ClusterMap(render(points, labels, summary), summary)
