"""The cohort retention heatmap: an SVG drawn from ``gold.cohort_retention`` (seed §6).

The warehouse does the aggregation; what reaches pandas is the small result (one row per
cohort and month, plus one per channel and month). The picture is written directly, with no
plotting library: the grid is a PNG of one pixel per cell (numpy and zlib), scaled up
inside the SVG, and the axes, labels, colour bar and channel curves are SVG text and lines.
A landing re-renders it, so this costs milliseconds where matplotlib cost a third of a
second to draw and half a second to import. The root element carries the cohort count,
month count and reporting date as ``data-*`` attributes, so a test (or a person) can check
what it shows without reading pixels.
"""

from __future__ import annotations

import base64
import datetime as dt
import struct
import zlib
from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd

from ecommerce_assets.gold.schemas import ALL_SOURCES
from resources.warehouse import Warehouse

CHANNEL_MONTHS = 12  # months after the first order compared across channels
MAX_LABELS = 40  # cohort labels on the y axis before thinning them out
# ColorBrewer's YlGnBu (9 classes), low to high, as matplotlib's "YlGnBu" map draws it.
YLGNBU = ("#ffffd9", "#edf8b1", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8",
          "#253494", "#081d58")
# The channel curves' colours (matplotlib's default cycle, "tab10").
CURVES = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf")
WIDTH = 1120  # px
LEFT, RIGHT_PANEL = 150, 300  # the cohort labels' margin; the channel panel's width


@dataclass(frozen=True)
class Heatmap:
    svg: bytes
    cohorts: int
    months: int

    def markdown(self) -> str:
        """The image inline (a data URI), for a Dagster Markdown metadata value."""
        data = base64.b64encode(self.svg).decode("ascii")
        return f"![cohort retention heatmap](data:image/svg+xml;base64,{data})"


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
    definition and left out so the colour scale shows the months that differ), beside each
    channel's retention curve over its first :data:`CHANNEL_MONTHS` months."""
    grid = overall.pivot_table(index="cohort_month", columns="months_since_first_order",
                               values="retention_rate", aggfunc="first").sort_index()
    sizes = overall.groupby("cohort_month")["cohort_size"].first().reindex(grid.index)
    later = grid.drop(columns=[0], errors="ignore")
    cohorts, months = len(grid.index), len(later.columns)
    values = later.to_numpy(dtype=float) * 100
    finite = values[np.isfinite(values)]
    vmax = max(float(np.percentile(finite, 99)) if finite.size else 1.0, 0.1)
    height = int(min(max(320, 9 * cohorts + 160), 1440))
    top, bottom = 40, height - 56
    heat = (LEFT, WIDTH - RIGHT_PANEL - 90)  # x from, to
    title = (f"Share of each cohort ordering again, % ({cohorts} cohorts"
             + (f", as of {as_of}" if as_of else "") + ")")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'font-size="11" data-cohorts="{cohorts}" data-months="{months}" '
        f'data-as-of="{as_of or ""}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        _text((heat[0] + heat[1]) / 2, top - 14, title, size=13, anchor="middle"),
    ]
    if cohorts and months:
        parts.append(f'<image x="{heat[0]}" y="{top}" width="{heat[1] - heat[0]}" '
                     f'height="{bottom - top}" preserveAspectRatio="none" '
                     'style="image-rendering:pixelated" href="data:image/png;base64,'
                     f'{base64.b64encode(_png(_colours(values, vmax))).decode()}"/>')
    cell_h, cell_w = (bottom - top) / max(cohorts, 1), (heat[1] - heat[0]) / max(months, 1)
    step = max(1, -(-cohorts // MAX_LABELS))
    parts += [_text(heat[0] - 6, top + (i + 0.5) * cell_h + 4,
                    f"{grid.index[i]:%Y-%m} (n={int(sizes.iloc[i])})", anchor="end")
              for i in range(0, cohorts, step)]
    xstep = max(1, -(-months // 24))
    parts += [_text(heat[0] + (j + 0.5) * cell_w, bottom + 14, str(later.columns[j]),
                    anchor="middle") for j in range(0, months, xstep)]
    parts += [
        f'<rect x="{heat[0]}" y="{top}" width="{heat[1] - heat[0]}" height="{bottom - top}" '
        'fill="none" stroke="#333"/>',
        _text((heat[0] + heat[1]) / 2, bottom + 34, "months since first order",
              anchor="middle"),
        _text(16, (top + bottom) / 2, "cohort (first order month)", anchor="middle",
              rotate=True),
        *_colour_bar(heat[1] + 20, top, (bottom - top) * 0.6, vmax),
        *_channel_panel(channels, WIDTH - RIGHT_PANEL + 50, WIDTH - 20, top, bottom),
        "</svg>",
    ]
    return Heatmap("\n".join(parts).encode(), cohorts, months)


def _colours(values: np.ndarray, vmax: float) -> np.ndarray:
    """RGBA pixels of the grid: YlGnBu over [0, vmax], transparent where there is no value
    (months a cohort has not lived yet)."""
    stops = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in YLGNBU], dtype=float)
    position = np.clip(np.nan_to_num(values, nan=0.0) / vmax, 0, 1) * (len(YLGNBU) - 1)
    low = np.minimum(position.astype(int), len(YLGNBU) - 2)
    weight = (position - low)[..., None]
    rgb = stops[low] * (1 - weight) + stops[low + 1] * weight
    alpha = np.where(np.isfinite(values), 255, 0)[..., None]
    return np.concatenate([rgb, alpha], axis=-1).round().astype(np.uint8)


def _png(rgba: np.ndarray) -> bytes:
    """A PNG of an (height, width, 4) uint8 array: each row prefixed by filter 0, deflated."""
    h, w, _ = rgba.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rgba.reshape(h, w * 4)], axis=1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6)) + chunk(b"IEND", b""))


def _colour_bar(x: float, top: float, length: float, vmax: float) -> list[str]:
    stops = "".join(f'<stop offset="{i / (len(YLGNBU) - 1):.3f}" stop-color="{c}"/>'
                    for i, c in enumerate(YLGNBU))
    ticks = [_text(x + 20, top + length * (1 - f) + 4, f"{vmax * f:.1f}") for f in (0, 0.5, 1)]
    return [f'<defs><linearGradient id="ylgnbu" x1="0" y1="1" x2="0" y2="0">{stops}'
            "</linearGradient></defs>",
            f'<rect x="{x}" y="{top}" width="14" height="{length:.1f}" fill="url(#ylgnbu)" '
            'stroke="#333"/>', *ticks,
            _text(x + 62, top + length / 2, "% of cohort", anchor="middle", rotate=True)]


def _channel_panel(channels: pd.DataFrame, x0: float, x1: float, top: float,
                   bottom: float) -> list[str]:
    """Each acquisition channel's retention by month since the first order (all cohorts)."""
    ymax = max(float(channels["retention_rate"].max() * 100) if len(channels) else 1.0, 0.1)

    def at(month: float, pct: float) -> tuple[float, float]:
        return (x0 + (month - 1) / (CHANNEL_MONTHS - 1) * (x1 - x0),
                bottom - pct / (ymax * 1.1) * (bottom - top))

    parts = [f'<rect x="{x0}" y="{top}" width="{x1 - x0}" height="{bottom - top}" '
             'fill="none" stroke="#333"/>',
             _text((x0 + x1) / 2, top - 14, "By acquisition channel", size=13,
                   anchor="middle"),
             _text((x0 + x1) / 2, bottom + 34, "months since first order", anchor="middle"),
             _text(x0 - 40, (top + bottom) / 2, "% of cohort ordering (all cohorts)",
                   anchor="middle", rotate=True)]
    parts += [_text(at(m, 0)[0], bottom + 14, str(m), anchor="middle")
              for m in range(1, CHANNEL_MONTHS + 1)]
    parts += [_text(x0 - 4, at(1, ymax * f)[1] + 4, f"{ymax * f:.1f}", anchor="end")
              for f in (0, 0.5, 1)]
    curves = channels.sort_values("months_since_first_order").groupby("traffic_source")
    for i, (source, curve) in enumerate(curves):
        colour = CURVES[i % len(CURVES)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (
            at(m, r * 100) for m, r in zip(curve["months_since_first_order"],
                                           curve["retention_rate"], strict=True)))
        parts += [f'<polyline points="{points}" fill="none" stroke="{colour}" '
                  'stroke-width="1.5"/>',
                  f'<line x1="{x1 - 110}" x2="{x1 - 92}" y1="{top + 14 + 14 * i}" '
                  f'y2="{top + 14 + 14 * i}" stroke="{colour}" stroke-width="2"/>',
                  _text(x1 - 88, top + 18 + 14 * i, str(source), size=10)]
    return parts


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "start",
          rotate: bool = False) -> str:
    turn = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{turn}>'
            f"{escape(text)}</text>")
