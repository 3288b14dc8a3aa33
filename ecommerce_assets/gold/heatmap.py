"""The cohort retention heatmap: a PNG rendered from ``gold.cohort_retention`` (seed §6).

The warehouse does the aggregation; what reaches pandas is the small result (one row per
cohort and month, plus one per channel and month), which matplotlib draws. The PNG carries
the cohort count and reporting date as text chunks, so a test (or a person) can check what
it shows without reading pixels.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import io
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecommerce_assets.gold.schemas import ALL_SOURCES
from resources.warehouse import Warehouse

CHANNEL_MONTHS = 12  # months after the first order compared across channels
MAX_LABELS = 40  # cohort labels on the y axis before thinning them out


_MATPLOTLIB = ("matplotlib.figure", "matplotlib.backends.backend_agg")
_prefetch_started = threading.Event()


def prefetch() -> None:
    """Import matplotlib (about 0.5 s) in a background thread, once per process: a gold step
    that will render the heatmap calls this when it starts, so the import overlaps the SQL
    of the tables before it (DuckDB and BigQuery waits release the GIL) instead of
    adding to the render's step."""
    if not _prefetch_started.is_set():
        _prefetch_started.set()
        threading.Thread(target=lambda: [importlib.import_module(m) for m in _MATPLOTLIB],
                         name="matplotlib-prefetch", daemon=True).start()


@dataclass(frozen=True)
class Heatmap:
    png: bytes
    cohorts: int
    months: int

    def markdown(self) -> str:
        """The image inline (a data URI), for a Dagster Markdown metadata value."""
        data = base64.b64encode(self.png).decode("ascii")
        return f"![cohort retention heatmap](data:image/png;base64,{data})"


def query_frames(warehouse: Warehouse, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The overall cohort grid and each channel's retention curve (weighted over cohorts)."""
    overall = warehouse.query_arrow(warehouse.transpile(
        f"SELECT cohort_month, months_since_first_order, cohort_size, retention_rate "
        f"FROM {table} WHERE traffic_source = '{ALL_SOURCES}'")).to_pandas()
    channels = warehouse.query_arrow(warehouse.transpile(
        f"SELECT traffic_source, months_since_first_order, "
        f"SUM(active_customers) / SUM(cohort_size) AS retention_rate "
        f"FROM {table} WHERE traffic_source <> '{ALL_SOURCES}' "
        f"AND months_since_first_order BETWEEN 1 AND {CHANNEL_MONTHS} "
        f"GROUP BY traffic_source, months_since_first_order")).to_pandas()
    return overall, channels


def render(overall: pd.DataFrame, channels: pd.DataFrame, as_of: dt.date | None) -> Heatmap:
    """Cohorts (rows) x months since the first order (columns 1, 2, ...; month 0 is 100% by
    definition and left out so the colour scale shows the months that differ)."""
    # Imported here, not at module level: matplotlib costs ~0.5 s to import, and every run
    # process loads this code location; only the step that renders needs it (and
    # :func:`prefetch` may have imported it already).
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    grid = overall.pivot_table(index="cohort_month", columns="months_since_first_order",
                               values="retention_rate", aggfunc="first").sort_index()
    sizes = overall.groupby("cohort_month")["cohort_size"].first().reindex(grid.index)
    later = grid.drop(columns=[0], errors="ignore")
    cohorts, months = len(grid.index), len(later.columns)
    height = min(max(4.0, 0.11 * cohorts + 2.0), 18.0)
    # Fixed margins, not a layout engine: constrained layout measures every label and
    # draws the figure twice (0.2 s of the 0.5 s render). The y labels ("2024-05 (n=1234)")
    # take at most 1.5 in.
    fig = Figure(figsize=(14, height), dpi=80)
    FigureCanvasAgg(fig)
    heat_ax, channel_ax = fig.subplots(1, 2, width_ratios=[3, 1], gridspec_kw={
        "left": 1.6 / 14, "right": 0.98, "wspace": 0.3, "bottom": 0.7 / height,
        "top": 1 - 0.45 / height})
    values = later.to_numpy(dtype=float) * 100
    finite = values[np.isfinite(values)]
    vmax = float(np.percentile(finite, 99)) if finite.size else 1.0
    image = heat_ax.imshow(values, aspect="auto", cmap="YlGnBu", vmin=0, vmax=max(vmax, 0.1),
                           interpolation="nearest")
    step = max(1, -(-cohorts // MAX_LABELS))
    ticks = list(range(0, cohorts, step))
    heat_ax.set_yticks(ticks, [f"{grid.index[i]:%Y-%m} (n={int(sizes.iloc[i])})" for i in ticks])
    xstep = max(1, -(-months // 24))
    heat_ax.set_xticks(list(range(0, months, xstep)),
                       [str(m) for m in list(later.columns)[::xstep]])
    heat_ax.set_xlabel("months since first order")
    heat_ax.set_ylabel("cohort (first order month)")
    heat_ax.set_title(f"Share of each cohort ordering again, % ({cohorts} cohorts"
                      + (f", as of {as_of}" if as_of else "") + ")")
    fig.colorbar(image, ax=heat_ax, label="% of cohort", shrink=0.6)
    for source, curve in channels.sort_values("months_since_first_order").groupby(
            "traffic_source"):
        channel_ax.plot(curve["months_since_first_order"], curve["retention_rate"] * 100,
                        marker="o", markersize=3, label=source)
    channel_ax.set_xticks(range(1, CHANNEL_MONTHS + 1))
    channel_ax.set_xlabel("months since first order")
    channel_ax.set_ylabel("% of cohort ordering (all cohorts)")
    channel_ax.set_title("By acquisition channel")
    if len(channels):
        channel_ax.legend(fontsize="small")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 3}, metadata={
        "Title": "Cohort retention", "Cohorts": str(cohorts), "Months": str(months),
        "As of": str(as_of or ""), "Software": None})
    return Heatmap(buffer.getvalue(), cohorts, months)


def write(heatmap: Heatmap, path: Path) -> Path:
    """Write the PNG atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".png.partial")
    partial.write_bytes(heatmap.png)
    partial.replace(path)
    return path
