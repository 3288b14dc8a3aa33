"""The generator's changes for the dimensional model (test_data/thelook_ecommerce/changes.py),
at their documented rates: users move or switch channel, unsold products are repriced, and
late parents land with the next batch, after their children."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow.compute as pc

from test_data.thelook_ecommerce import changes
from test_data.thelook_ecommerce import synthetic as syn
from test_data.thelook_ecommerce.batches import make_batch
from tests.conftest import AS_OF
from tests.test_dirty_batches import state_from


def batch_of(state, day: dt.date, seq: int):
    first_new = dict(state.next_ids)
    window = (syn.epoch(day), syn.epoch(day) + syn.DAY)
    batch = make_batch(state, day, n_orders=1000, n_users=500, n_products=5,
                       rng=np.random.default_rng(seq), window=window)
    return changes.apply_changes(batch, state, np.random.default_rng([seq, 13]), window,
                                 first_new), first_new


def test_changes_and_late_parents_at_their_rates(thelook) -> None:
    state = state_from(thelook)
    users_before = {u["id"]: u for u in state.tables["users"].to_pylist()}
    prices_before = dict(zip(thelook["products"]["id"].to_pylist(),
                             thelook["products"]["retail_price"].to_pylist(), strict=True))
    day1 = AS_OF + dt.timedelta(days=1)
    first, ids1 = batch_of(state, day1, 1)

    # Changed users: later versions of existing ids, 1% moving + 0.2% switching channel.
    changed = [u for u in first.tables["users"].to_pylist() if u["id"] < ids1["users"]]
    assert abs(len(changed) - 0.012 * len(users_before)) <= 0.002 * len(users_before) + 2
    assert first.updated_rows["users"] == len(changed)
    moved = [u for u in changed if u["street_address"] != users_before[u["id"]]["street_address"]]
    switched = [u for u in changed
                if u["traffic_source"] != users_before[u["id"]]["traffic_source"]]
    assert len(moved) > len(switched) > 0
    assert all(u["created_at"] == users_before[u["id"]]["created_at"] for u in changed)
    # Repriced products: existing, never sold, 5-30% away from the old price.
    repriced = [p for p in first.tables["products"].to_pylist() if p["id"] < ids1["products"]]
    assert repriced and first.updated_rows["products"] == len(repriced)
    sold = set(thelook["order_items"]["product_id"].to_pylist())
    for p in repriced:
        assert p["id"] not in sold
        assert 0.049 <= abs(p["retail_price"] / prices_before[p["id"]] - 1) <= 0.301

    # Late parents: 2% of the new orders are missing from the batch, not their items.
    held = state.pending["orders"]
    assert held.num_rows == round(0.02 * 1000) and first.new_rows["orders"] == 980
    landed_orders = set(first.tables["orders"]["order_id"].to_pylist())
    items = first.tables["order_items"]
    late_items = items.filter(pc.is_in(items["order_id"], value_set=held["order_id"]))
    assert late_items.num_rows >= held.num_rows
    assert not set(held["order_id"].to_pylist()) & landed_orders
    late_users = state.pending["users"]
    assert late_users.num_rows == round(0.02 * 500)
    events = first.tables["events"]
    assert pc.sum(pc.is_in(events["user_id"], value_set=late_users["id"])).as_py() > 0

    # The next batch lands them, before its own rows, as new rows of that batch.
    second, _ = batch_of(state, day1 + dt.timedelta(days=1), 2)
    orders = second.tables["orders"]["order_id"].to_pylist()
    late = held["order_id"].to_pylist()
    assert set(late) <= set(orders)  # each lands, as itself or as its later version
    first_rows = [o for o in orders[:len(late)] if o in late]
    assert len(first_rows) >= 0.8 * len(late) and orders[0] in late
    assert set(late_users["id"].to_pylist()) <= set(second.tables["users"]["id"].to_pylist())
