"""Incremental batches that continue a seeded dataset, one landing day at a time.

A batch for day D holds, per table, rows created during D that follow THELOOK's rules
(they are built by the same functions as the seed) and reference existing users and
products, plus **later versions** of existing orders and their items: Processing orders
become Shipped and Shipped orders become Complete, so "keep the latest version" matters.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from test_data.thelook_ecommerce import reference as ref
from test_data.thelook_ecommerce import synthetic as syn
from test_data.thelook_ecommerce.state import GeneratorState

UPDATE_SHARE = 0.2  # updated orders, as a share of new orders in a batch
NEW_USER_ORDER_SHARE = 0.3  # share of new orders placed by users created the same day


@dataclass
class Batch:
    date: dt.date
    tables: dict[str, pa.Table]  # clean rows of the batch, per table
    new_rows: dict[str, int]
    updated_rows: dict[str, int]


def _seconds(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.fill_null(col.cast(pa.int64()), -1_000_000).to_numpy() // 1_000_000


def _updates(rng: np.random.Generator, state: GeneratorState, n: int, day_start: int,
             day_end: int) -> tuple[pa.Table, pa.Table]:
    """Later versions of up to ``n`` open orders (and their items), stamped in the window.

    Only orders created before the window whose next step can happen within it under
    THELOOK's rules qualify: Processing -> Shipped within 3 days of created_at, Shipped ->
    Complete within 5 days of shipped_at. So recent orders (typically the previous batch's)
    move forward.
    """
    orders = state.tables["orders"]
    status = orders["status"].to_numpy(zero_copy_only=False)
    created = _seconds(orders["created_at"])
    shipped = _seconds(orders["shipped_at"])
    processing = status == "Processing"
    # Window of the next timestamp: [lo, hi) intersected with today.
    lo = np.where(processing, np.maximum(created, day_start), np.maximum(shipped, day_start))
    hi = np.where(processing, np.minimum(created + 3 * syn.DAY, day_end),
                  np.minimum(shipped + 5 * syn.DAY, day_end))
    open_ = processing | ((status == "Shipped") & (shipped >= 0))
    candidates = np.flatnonzero(open_ & (hi > lo) & (created < day_start))
    if n == 0 or len(candidates) == 0:
        return orders.slice(0, 0), state.tables["order_items"].slice(0, 0)
    rows = np.sort(rng.choice(candidates, size=min(n, len(candidates)), replace=False))
    picked = orders.take(pa.array(rows))
    was_processing = processing[rows]
    when = lo[rows] + (rng.random(len(rows)) * (hi[rows] - lo[rows])).astype(np.int64)
    new_status = np.where(was_processing, "Shipped", "Complete")
    new_shipped = np.where(was_processing, when, shipped[rows])
    new_delivered = np.where(was_processing, -1, when)
    updated = (picked
               .set_column(2, "status", pa.array(new_status))
               .set_column(picked.schema.get_field_index("shipped_at"), "shipped_at",
                           syn.ts_array(new_shipped))
               .set_column(picked.schema.get_field_index("delivered_at"), "delivered_at",
                           syn.ts_array(new_delivered, new_delivered < 0)))
    items = state.tables["order_items"]
    mask = pc.is_in(items["order_id"], value_set=updated["order_id"])
    items = items.filter(mask)
    pos = np.searchsorted(updated["order_id"].to_numpy(), items["order_id"].to_numpy())
    idx = pa.array(pos)
    for col in ("status", "shipped_at", "delivered_at"):
        i = items.schema.get_field_index(col)
        items = items.set_column(i, col, updated[col].combine_chunks().take(idx))
    return updated, items


def _replace_rows(table: pa.Table, key: str, new: pa.Table) -> pa.Table:
    """``table`` with rows whose key is in ``new`` replaced by ``new``'s rows."""
    if new.num_rows == 0:
        return table
    keep = pc.invert(pc.is_in(table[key], value_set=new[key]))
    merged = pa.concat_tables([table.filter(keep), new.select(table.column_names).cast(table.schema)])
    return merged.take(pc.sort_indices(merged, [(key, "ascending")]))


def make_batch(state: GeneratorState, date: dt.date, n_orders: int, n_users: int,
               n_products: int, rng: np.random.Generator,
               window: tuple[int, int] | None = None) -> Batch:
    """Build the clean rows of one landing day and advance ``state`` past them.

    ``window``: the part of the day the batch covers, [start, end) in epoch seconds (default
    the whole day). New rows are created in it; intra-day batches use consecutive windows,
    so a later batch of the same day never predates an earlier one.
    """
    day_start, day_end = window or (syn.epoch(date), syn.epoch(date) + syn.DAY)
    t = state.tables
    ids = state.next_ids
    geo = syn.geography(np.random.default_rng(state.seed))  # same pools as the seed

    # New catalogue entries, spread over categories like the catalogue itself.
    weights = np.array([c for _, _, c, _ in ref.CATEGORIES], dtype=float)
    counts = rng.multinomial(n_products, weights / weights.sum())
    new_products = syn.products(rng, 1.0, first_id=ids["products"], counts=counts)
    new_products = new_products.cast(t["products"].schema)
    new_users = syn.users(rng, n_users, ids["users"], day_start, day_end, geo,
                          recent_share=0.0).cast(t["users"].schema)
    all_users = pa.concat_tables([t["users"], new_users])
    all_products = pa.concat_tables([t["products"], new_products])

    # New orders: some by today's new users, the rest by existing users.
    n_existing = len(t["users"])
    from_new = rng.random(n_orders) < (NEW_USER_ORDER_SHARE if n_users else 0.0)
    # Existing users who signed up before the window ends (the seed holds a few created after
    # its date): an order never precedes its user, nor falls after the window.
    eligible = np.flatnonzero(_seconds(t["users"]["created_at"]) < day_end)
    eligible = eligible if len(eligible) else np.arange(n_existing)
    order_users = np.where(from_new, n_existing + rng.integers(0, max(n_users, 1), n_orders),
                           eligible[rng.integers(0, len(eligible), n_orders)])
    u_created = _seconds(all_users["created_at"])[order_users]
    lo = np.maximum(u_created, day_start)
    order_created = lo + (rng.random(n_orders) * (day_end - lo)).astype(np.int64)
    sales = syn.sales_for_orders(rng, order_users, order_created, all_users, all_products,
                                 ids["orders"], ids["order_items"], ids["inventory_items"],
                                 day_end)
    purchase = syn.events_for_items(rng, sales, all_users, all_products)
    anon = syn.anonymous_events(rng, np.arange(n_existing, n_existing + n_users), all_users,
                                all_products, day_end)
    events = syn.number_events(pa.concat_tables([purchase, anon]), ids["events"])

    upd_orders, upd_items = _updates(rng, state, round(UPDATE_SHARE * n_orders), day_start,
                                    day_end)
    orders_out = pa.concat_tables([sales.orders.cast(t["orders"].schema),
                                   upd_orders.cast(t["orders"].schema)])
    items_out = pa.concat_tables([sales.order_items.cast(t["order_items"].schema),
                                  upd_items.cast(t["order_items"].schema)])
    tables = {
        "distribution_centers": t["distribution_centers"],
        "products": new_products,
        "users": new_users,
        "orders": orders_out,
        "order_items": items_out,
        "inventory_items": sales.inventory_items,
        "events": events,
    }
    new_rows = {"distribution_centers": 0, "products": new_products.num_rows,
                "users": n_users, "orders": sales.orders.num_rows,
                "order_items": sales.order_items.num_rows,
                "inventory_items": sales.inventory_items.num_rows, "events": events.num_rows}
    updated_rows = {"distribution_centers": t["distribution_centers"].num_rows,
                    "orders": upd_orders.num_rows, "order_items": upd_items.num_rows}

    # Advance the state: append new entities, apply the updates, move the id sequences.
    t["products"] = all_products
    t["users"] = all_users
    t["orders"] = _replace_rows(pa.concat_tables([t["orders"], sales.orders.cast(
        t["orders"].schema)]), "order_id", upd_orders)
    t["order_items"] = _replace_rows(pa.concat_tables([t["order_items"], sales.order_items.cast(
        t["order_items"].schema)]), "id", upd_items)
    for name, table in (("products", new_products), ("users", new_users),
                        ("orders", sales.orders), ("order_items", sales.order_items),
                        ("inventory_items", sales.inventory_items), ("events", events)):
        ids[name] += table.num_rows
    state.batches += 1
    state.last_date = date.isoformat()
    state.last_until = day_end
    return Batch(date=date, tables=tables, new_rows=new_rows,
                 updated_rows={k: updated_rows.get(k, 0) for k in tables})
