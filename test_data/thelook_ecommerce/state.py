"""What the dirty-batch generator remembers between runs.

Seeding saves the clean entity tables the batches must stay coherent with (users,
products, orders, order_items and the distribution centres) plus the next free id of
every table. Each batch appends its new rows and applies its updates, so batches continue
the id sequences and later versions move orders forward (Processing -> Shipped -> Complete).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

KEPT_TABLES = ("distribution_centers", "products", "users", "orders", "order_items")
# Rows a batch held back for the next one (late parents, changes.py), by table.
PENDING_TABLES = ("orders", "users")


@dataclass
class GeneratorState:
    scale: float
    seed: int
    seed_date: str
    next_ids: dict[str, int]
    batches: int = 0
    tables: dict[str, pa.Table] = field(default_factory=dict)
    last_date: str | None = None  # landing date of the latest batch
    # End of the latest batch's window, epoch seconds (the next batch starts there); for a
    # whole-day batch the next midnight.
    last_until: int | None = None
    pending: dict[str, pa.Table] = field(default_factory=dict)

    def resumes_at(self) -> int | None:
        """Epoch second the next batch may start at: the end of the latest batch's window
        (states written before intra-day batches existed: the midnight after its day)."""
        if self.last_until is not None:
            return self.last_until
        if self.last_date is None:
            return None
        day = dt.date.fromisoformat(self.last_date) + dt.timedelta(days=1)
        return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())

    @classmethod
    def load(cls, directory: Path) -> GeneratorState:
        meta_path = directory / "state.json"
        if not meta_path.exists():
            raise FileNotFoundError(
                f"no generator state in {directory}: run seed.py first (or pass --state-dir)")
        meta = json.loads(meta_path.read_text())
        version = meta.get("version", 0)
        tables = {t: pq.read_table(directory / f"{t}.v{version}.parquet") for t in KEPT_TABLES}
        pending = {t: pq.read_table(path) for t in PENDING_TABLES
                   if (path := directory / f"pending_{t}.v{version}.parquet").exists()}
        return cls(scale=meta["scale"], seed=meta["seed"], seed_date=meta["seed_date"],
                   next_ids=meta["next_ids"], batches=meta["batches"], tables=tables,
                   last_date=meta.get("last_date"), last_until=meta.get("last_until"),
                   pending=pending)

    def save(self, directory: Path) -> None:
        """Write the tables under a new version, then switch state.json to it atomically.

        state.json is the commit point: a crash before its rename leaves the previous
        version intact (ids are never reused); older versions are removed afterwards.
        """
        directory.mkdir(parents=True, exist_ok=True)
        old = directory / "state.json"
        previous = json.loads(old.read_text()).get("version", 0) if old.exists() else -1
        version = previous + 1
        for name in KEPT_TABLES:
            pq.write_table(self.tables[name], directory / f"{name}.v{version}.parquet")
        for name, table in self.pending.items():
            pq.write_table(table, directory / f"pending_{name}.v{version}.parquet")
        meta = {"scale": self.scale, "seed": self.seed, "seed_date": self.seed_date,
                "next_ids": self.next_ids, "batches": self.batches,
                "last_date": self.last_date, "last_until": self.last_until,
                "version": version}
        tmp = directory / "state.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2))
        tmp.replace(old)
        for stale in directory.glob("*.v*.parquet"):
            if not stale.name.endswith(f".v{version}.parquet"):
                stale.unlink()


def next_ids_after(tables: dict[str, pa.Table]) -> dict[str, int]:
    """Next free id per table (order_id for orders)."""
    out = {}
    for name, table in tables.items():
        key = "order_id" if name == "orders" else "id"
        out[name] = int(pa.compute.max(table[key]).as_py() or 0) + 1
    return out
