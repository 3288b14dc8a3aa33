"""Changes to existing rows and late parents: what a dimensional model has to handle.

Applied to each batch after :func:`batches.make_batch`, with a random stream of their own
(the batch's other draws are unchanged). Rates, per batch:

- **moves**: 1% of the existing users (signed up before the batch) land again with a new
  address (street, city, state, postal code, country, coordinates): a type 2 change;
- **acquisition data**: 0.2% of the existing users land again with another traffic source;
- **price changes**: 0.5% of the catalogue, drawn among the products not sold yet, land again
  with a list price 5-30% higher or lower (their sales, all after the change, are at the new
  price);
- **late parents**: 2% of the batch's new orders and 2% of its new users are held back and
  land with the next batch (a day later for daily batches), after their order items,
  events and orders. The held-back rows are kept in the generator state.

A changed row is a later version of its key (``updated_rows`` in the manifest); a late
parent is a new row of the batch it lands in (``new_rows``).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from test_data.thelook_ecommerce import reference as ref
from test_data.thelook_ecommerce import synthetic as syn
from test_data.thelook_ecommerce.batches import Batch, _replace_rows
from test_data.thelook_ecommerce.state import GeneratorState

MOVE_SHARE = 0.01
CHANNEL_SHARE = 0.002
REPRICE_SHARE = 0.005
REPRICE_RANGE = (0.05, 0.30)
LATE_ORDER_SHARE = 0.02
LATE_USER_SHARE = 0.02
ADDRESS_COLUMNS = ("state", "street_address", "postal_code", "city", "country", "latitude",
                   "longitude", "user_geom")
# Held back per table: the key column.
LATE_TABLES = {"orders": "order_id", "users": "id"}


def _pick(rng: np.random.Generator, candidates: np.ndarray, share: float,
          of: int | None = None) -> np.ndarray:
    """``share`` of ``of`` rows (default: of the candidates), drawn among ``candidates``."""
    n = min(len(candidates), round(share * (len(candidates) if of is None else of)))
    return np.sort(rng.choice(candidates, size=n, replace=False)) if n else candidates[:0]


def _set(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(column)
    return table.set_column(i, column, values.cast(table.schema.field(column).type))


def changed_users(rng: np.random.Generator, state: GeneratorState, existing: np.ndarray,
                  window: tuple[int, int]) -> pa.Table:
    """Later versions of existing users (row indexes ``existing``): moves, then channel
    changes (a user can do both)."""
    users = state.tables["users"]
    movers = _pick(rng, existing, MOVE_SHARE)
    switchers = _pick(rng, existing, CHANNEL_SHARE)
    rows = np.union1d(movers, switchers)
    if len(rows) == 0:
        return users.slice(0, 0)
    changed = users.take(pa.array(rows))
    # New addresses from the seed's generator (same geography pools), one per mover.
    geo = syn.geography(np.random.default_rng(state.seed))
    fresh = syn.users(rng, len(rows), 0, window[0], window[1], geo, recent_share=0.0)
    moving = pa.array(np.isin(rows, movers))
    for column in ADDRESS_COLUMNS:
        changed = _set(changed, column, pc.if_else(moving, fresh[column].combine_chunks(),
                                                   changed[column].combine_chunks()))
    sources = list(ref.USER_TRAFFIC_SOURCES)
    current = [sources.index(c) if c in sources else 0
               for c in changed["traffic_source"].to_pylist()]
    # Another channel: a shift of 1 to len-1 places never lands on the same one.
    shifted = np.array(sources)[(np.array(current, dtype=np.int64)
                                 + rng.integers(1, len(sources), len(rows))) % len(sources)]
    switching = pa.array(np.isin(rows, switchers))
    return _set(changed, "traffic_source",
                pc.if_else(switching, pa.array(shifted), changed["traffic_source"]))


def repriced_products(rng: np.random.Generator, state: GeneratorState,
                      unsold: np.ndarray) -> pa.Table:
    products = state.tables["products"]
    rows = _pick(rng, unsold, REPRICE_SHARE, of=products.num_rows)
    picked = products.take(pa.array(rows))
    lo, hi = REPRICE_RANGE
    factor = 1 + rng.choice([-1, 1], len(rows)) * rng.uniform(lo, hi, len(rows))
    price = np.round(picked["retail_price"].to_numpy() * factor, 2)
    return _set(picked, "retail_price", pa.array(price))


def apply_changes(batch: Batch, state: GeneratorState, rng: np.random.Generator,
                  window: tuple[int, int], first_new: dict[str, int]) -> Batch:
    """Add the changed rows to ``batch``, land the rows held back by the previous batch,
    hold back this batch's late parents; ``state`` follows. ``first_new``: the first id of
    each table's new rows in this batch (its ids before the batch)."""
    t = batch.tables
    users, products = state.tables["users"], state.tables["products"]
    held = {k: v for k, v in state.pending.items() if v.num_rows}
    held_users = held.get("users", users.slice(0, 0))["id"]
    existing_users = np.flatnonzero(pc.and_(
        pc.less(users["id"], first_new["users"]),
        pc.invert(pc.is_in(users["id"], value_set=held_users))).to_numpy(zero_copy_only=False))
    # Products not sold yet: every sale of a product is then at its current list price, which
    # the gold layer (and its tests) take as the price an item sold at.
    sold = state.tables["order_items"]["product_id"]
    unsold = np.flatnonzero(pc.and_(
        pc.less(products["id"], first_new["products"]),
        pc.invert(pc.is_in(products["id"], value_set=sold))).to_numpy(zero_copy_only=False))
    moved = changed_users(rng, state, existing_users, window)
    repriced = repriced_products(rng, state, unsold)
    state.tables["users"] = _replace_rows(users, "id", moved)
    state.tables["products"] = _replace_rows(products, "id", repriced)

    # This batch's late parents: held back from its files, kept for the next batch.
    late: dict[str, pa.Table] = {}
    for name, key in LATE_TABLES.items():
        share = LATE_ORDER_SHARE if name == "orders" else LATE_USER_SHARE
        new = np.flatnonzero(pc.greater_equal(t[name][key], first_new[name]).to_numpy(
            zero_copy_only=False))
        rows = _pick(rng, new, share)
        late[name] = t[name].take(pa.array(rows))
        t[name] = t[name].filter(pc.invert(pc.is_in(t[name][key],
                                                    value_set=late[name][key])))
        batch.new_rows[name] -= len(rows)
    # The previous batch's late parents land now, before this batch's rows; an order this
    # batch moves forward lands as that later version only.
    for name, key in LATE_TABLES.items():
        if name in held:
            landing = held[name].filter(pc.invert(pc.is_in(held[name][key],
                                                           value_set=t[name][key])))
            t[name] = pa.concat_tables([landing.cast(t[name].schema), t[name]])
            batch.new_rows[name] += landing.num_rows
    t["users"] = pa.concat_tables([t["users"], moved.cast(t["users"].schema)])
    t["products"] = pa.concat_tables([t["products"], repriced.cast(t["products"].schema)])
    batch.updated_rows["users"] += moved.num_rows
    batch.updated_rows["products"] += repriced.num_rows
    state.pending = late
    return batch
