"""Vectorised generator of a faithful synthetic ``thelook_ecommerce`` (shared THELOOK.md).

Every table is built with numpy arrays and pyarrow ``take`` from small value pools; there
is no per-row Python loop, so scale 1.0 (~3.3M rows) builds in seconds. Timestamps are
whole seconds, so every raw timestamp format the dirty generator writes is lossless.

Entry points:
- :func:`generate` builds all seven clean tables for a ``scale``, ``seed`` and ``as_of`` day.
- :func:`sales_for_orders`, :func:`events_for_items`, :func:`anonymous_events` are reused by
  the incremental batch generator so new rows follow exactly the same rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from test_data.thelook_ecommerce import reference as ref
from test_data.thelook_ecommerce.product_names import product_names

DAY = 86_400
TS = pa.timestamp("us", tz="UTC")
USERS_START = dt.datetime(2019, 1, 2, tzinfo=dt.UTC)
UNSOLD_INVENTORY_START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

# Column order of each table, as in BigQuery.
COLUMNS: dict[str, list[str]] = {
    "distribution_centers": ["id", "name", "latitude", "longitude", "distribution_center_geom"],
    "products": ["id", "cost", "category", "name", "brand", "retail_price", "department",
                 "sku", "distribution_center_id"],
    "users": ["id", "first_name", "last_name", "email", "age", "gender", "state",
              "street_address", "postal_code", "city", "country", "latitude", "longitude",
              "traffic_source", "created_at", "user_geom"],
    "orders": ["order_id", "user_id", "status", "gender", "created_at", "returned_at",
               "shipped_at", "delivered_at", "num_of_item"],
    "order_items": ["id", "order_id", "user_id", "product_id", "inventory_item_id", "status",
                    "created_at", "shipped_at", "delivered_at", "returned_at", "sale_price"],
    "inventory_items": ["id", "product_id", "created_at", "sold_at", "cost", "product_category",
                        "product_name", "product_brand", "product_retail_price",
                        "product_department", "product_sku", "product_distribution_center_id"],
    "events": ["id", "user_id", "sequence_number", "session_id", "created_at", "ip_address",
               "city", "state", "postal_code", "browser", "traffic_source", "uri", "event_type"],
}
TABLES: tuple[str, ...] = tuple(COLUMNS)
KEY_COLUMN: dict[str, str] = {t: ("order_id" if t == "orders" else "id") for t in TABLES}


def epoch(d: dt.datetime | dt.date) -> int:
    """Seconds since the Unix epoch of a UTC datetime (or of a date at midnight UTC)."""
    if not isinstance(d, dt.datetime):
        d = dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
    return int(d.timestamp())


def ts_array(seconds: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """int64 epoch seconds (+ optional null mask) -> timestamp[us, UTC] array."""
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, type=pa.int64(),
                    mask=mask).cast(TS)


def choice(rng: np.random.Generator, weights: dict, size: int) -> np.ndarray:
    """Index into ``list(weights)`` drawn with the given probabilities."""
    p = np.asarray(list(weights.values()), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def hex_strings(rng: np.random.Generator, n: int, nbytes: int, upper: bool = False,
                uuid4: bool = False) -> pa.Array:
    """Random hex strings (or uuid4 strings) built from a byte matrix, with no Python loop."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    if uuid4:
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    alphabet = np.frombuffer(b"0123456789ABCDEF" if upper else b"0123456789abcdef", np.uint8)
    chars = np.empty((n, nbytes * 2), dtype=np.uint8)
    chars[:, 0::2] = alphabet[raw >> 4]
    chars[:, 1::2] = alphabet[raw & 0x0F]
    if uuid4:
        dash = np.full((n, 1), ord("-"), dtype=np.uint8)
        chars = np.hstack([chars[:, :8], dash, chars[:, 8:12], dash, chars[:, 12:16], dash,
                           chars[:, 16:20], dash, chars[:, 20:]])
    width = chars.shape[1]
    return pa.array(chars.reshape(-1).view(f"S{width}")).cast(pa.string())


def pool_take(pool: list[str] | pa.Array, idx: np.ndarray) -> pa.Array:
    """Pick strings from a small pool by index (vectorised)."""
    arr = pool if isinstance(pool, pa.Array) else pa.array(pool, pa.string())
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))


def join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def int_str(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())


# --------------------------------------------------------------------------------------
# Catalogue and geography tables (small; built once per state)
# --------------------------------------------------------------------------------------


def distribution_centers() -> pa.Table:
    ids, names, lats, lons = zip(*ref.DISTRIBUTION_CENTERS, strict=True)
    geom = [f"POINT({lon} {lat})" for lat, lon in zip(lats, lons, strict=True)]
    return pa.table({"id": pa.array(ids, pa.int64()), "name": list(names),
                     "latitude": list(lats), "longitude": list(lons),
                     "distribution_center_geom": geom})


def products(rng: np.random.Generator, scale: float, first_id: int = 1,
             counts: np.ndarray | None = None) -> pa.Table:
    """Products per department/category; ``counts`` overrides the scaled real counts."""
    cats = ref.CATEGORIES
    if counts is None:
        counts = np.array([max(1, round(c * scale)) for _, _, c, _ in cats])
    cat_idx = np.repeat(np.arange(len(cats)), counts)
    n = len(cat_idx)
    means = np.array([m for *_, m in cats])
    weights = np.array([c for _, _, c, _ in cats])
    means = means * 59.0 / (means * weights).sum() * weights.sum()  # overall mean retail ≈ $59
    sigma = 0.55
    mu = np.log(means[cat_idx]) - sigma**2 / 2
    retail = np.clip(np.round(rng.lognormal(mu, sigma), 2), 1.5, 999.0)
    # Each category has its own cost/retail ratio in 0.38–0.62; products vary around it.
    cat_ratio = 0.38 + 0.24 * ((np.arange(len(cats)) * 0.6180339887) % 1.0)
    cost = retail * np.clip(cat_ratio[cat_idx] * rng.uniform(0.92, 1.08, n), 0.3, 0.7)
    dept = pool_take([d for d, *_ in cats], cat_idx)
    category = pool_take([c for _, c, *_ in cats], cat_idx)
    brand = pool_take(ref.BRANDS, rng.integers(0, len(ref.BRANDS), n))
    name = product_names(rng, [(d, c) for d, c, *_ in cats], cat_idx, brand)
    return pa.table({
        "id": pa.array(np.arange(first_id, first_id + n), pa.int64()),
        "cost": cost,
        "category": category,
        "name": name,
        "brand": brand,
        "retail_price": retail,
        "department": dept,
        "sku": hex_strings(rng, n, 16, upper=True),
        "distribution_center_id": pa.array(rng.integers(1, 11, n), pa.int64()),
    })


@dataclass(frozen=True)
class Geography:
    """Flat city table: one row per (country, city) with its sampling weight."""

    country: pa.Array
    city: pa.Array
    state: pa.Array
    lat: np.ndarray
    lon: np.ndarray
    weight: np.ndarray
    postal_pools: pa.Array  # 20 postal codes per city, city-major
    is_us: np.ndarray


def geography(rng: np.random.Generator) -> Geography:
    rows = [(country, w / len(cities), *city) for country, w, cities in ref.COUNTRIES
            for city in cities]
    pools: list[str] = []
    for *_, prefix, digits, fmt in rows:
        codes = rng.integers(0, 10**digits, 20)
        pools += [fmt.format(p=prefix, d=str(c).zfill(digits)) for c in codes]
    return Geography(
        country=pa.array([r[0] for r in rows]), city=pa.array([r[2] for r in rows]),
        state=pa.array([r[3] for r in rows]), lat=np.array([r[4] for r in rows]),
        lon=np.array([r[5] for r in rows]), weight=np.array([r[1] for r in rows]),
        postal_pools=pa.array(pools), is_us=np.array([r[0] == "United States" for r in rows]))


def street_addresses(rng: np.random.Generator, n: int) -> pa.Array:
    """"123 [North] Oak Street[ Apt 4B]" with the spelling variety real addresses have."""
    number = int_str(rng.integers(1, 10_000, n))
    street = pool_take(ref.STREET_NAMES, rng.integers(0, len(ref.STREET_NAMES), n))
    suffix = pool_take(ref.STREET_SUFFIXES, rng.integers(0, len(ref.STREET_SUFFIXES), n))
    dirs = pool_take(["", *ref.DIRECTIONALS], np.where(
        rng.random(n) < 0.2, rng.integers(1, len(ref.DIRECTIONALS) + 1, n), 0))
    units = pool_take(["", *ref.UNITS], np.where(
        rng.random(n) < 0.15, rng.integers(1, len(ref.UNITS) + 1, n), 0))
    addr = join(number, dirs, street, suffix, units, sep=" ")
    # Empty optional parts leave doubled/trailing spaces: squeeze them.
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(addr, r"\s{2,}", " "))


def users(rng: np.random.Generator, n: int, first_id: int, start_s: int, end_s: int,
          geo: Geography, recent_share: float = 0.025) -> pa.Table:
    """Users created in [start_s, end_s): days uniform (plus a recent bump), 00:00–18:59."""
    gender_f = rng.random(n) < 0.5
    first_idx_m = rng.integers(0, len(ref.MALE_FIRST), n)
    first_idx_f = rng.integers(0, len(ref.FEMALE_FIRST), n)
    first = pc.if_else(pa.array(gender_f), pool_take(ref.FEMALE_FIRST, first_idx_f),
                       pool_take(ref.MALE_FIRST, first_idx_m))
    last = pool_take(ref.LAST_NAMES, rng.integers(0, len(ref.LAST_NAMES), n))
    domain = pool_take(ref.EMAIL_DOMAINS, rng.integers(0, len(ref.EMAIL_DOMAINS), n))
    email = join(pc.utf8_lower(first), pc.utf8_lower(last), "@", domain, sep="")
    # THELOOK: ≈2.5% of users were created in the last 7 days; the rest are uniform.
    days_total = max(1, (end_s - start_s) // DAY)
    recent = rng.random(n) < recent_share
    day = np.where(recent, rng.integers(max(0, days_total - 7), days_total, n),
                   rng.integers(0, days_total, n))
    created = start_s + day * DAY + rng.integers(0, 19 * 3600, n)
    if end_s - start_s < DAY:  # an intra-day batch's window: sign-ups anywhere inside it
        created = start_s + rng.integers(0, end_s - start_s, n)
    city_idx = rng.choice(len(geo.weight), size=n, p=geo.weight / geo.weight.sum())
    lat = np.round(geo.lat[city_idx] + rng.normal(0, 0.05, n), 6)
    lon = np.round(geo.lon[city_idx] + rng.normal(0, 0.05, n), 6)
    postal = geo.postal_pools.take(pa.array(city_idx * 20 + rng.integers(0, 20, n)))
    return pa.table({
        "id": pa.array(np.arange(first_id, first_id + n), pa.int64()),
        "first_name": first, "last_name": last, "email": email,
        "age": pa.array(rng.integers(12, 71, n), pa.int64()),
        "gender": pa.array(np.where(gender_f, "F", "M")),
        "state": geo.state.take(pa.array(city_idx)),
        "street_address": street_addresses(rng, n),
        "postal_code": postal,
        "city": geo.city.take(pa.array(city_idx)),
        "country": geo.country.take(pa.array(city_idx)),
        "latitude": lat, "longitude": lon,
        "traffic_source": pool_take(list(ref.USER_TRAFFIC_SOURCES),
                                    choice(rng, ref.USER_TRAFFIC_SOURCES, n)),
        "created_at": ts_array(created),
        "user_geom": join("POINT(", join(pa.array(lon).cast(pa.string()),
                                         pa.array(lat).cast(pa.string()), sep=" "), ")"),
    })


# --------------------------------------------------------------------------------------
# Sales: orders -> order_items -> inventory_items
# --------------------------------------------------------------------------------------


def lifecycle(rng: np.random.Generator, status: np.ndarray, created: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """shipped/delivered/returned epoch seconds with -1 for null, per THELOOK's rules."""
    n = len(status)
    shipped = created + rng.integers(0, 3 * DAY, n)
    delivered = shipped + rng.integers(0, 5 * DAY, n)
    returned = delivered + rng.integers(0, 3 * DAY, n)
    names = np.array(list(ref.ORDER_STATUSES))
    s = names[status]
    has_ship = np.isin(s, ["Shipped", "Complete", "Returned"])
    has_deliv = np.isin(s, ["Complete", "Returned"])
    has_ret = s == "Returned"
    return (np.where(has_ship, shipped, -1), np.where(has_deliv, delivered, -1),
            np.where(has_ret, returned, -1))


@dataclass
class Sales:
    orders: pa.Table
    order_items: pa.Table
    inventory_items: pa.Table


def sales_for_orders(rng: np.random.Generator, order_users: np.ndarray, order_created: np.ndarray,
                     users_tbl: pa.Table, products_tbl: pa.Table, first_order_id: int,
                     first_item_id: int, first_inventory_id: int, horizon_s: int) -> Sales:
    """Orders for the given (user row index, created_at) pairs, with items and inventory.

    ``order_users`` indexes rows of ``users_tbl``. Orders are numbered in created_at order.
    """
    sort = np.argsort(order_created, kind="stable")
    order_users, order_created = order_users[sort], order_created[sort]
    n = len(order_users)
    status = choice(rng, ref.ORDER_STATUSES, n)
    shipped, delivered, returned = lifecycle(rng, status, order_created)
    num_items = np.array(list(ref.NUM_OF_ITEM_WEIGHTS))[choice(rng, ref.NUM_OF_ITEM_WEIGHTS, n)]
    user_ids = users_tbl["id"].to_numpy()[order_users]
    user_gender = users_tbl["gender"].to_numpy(zero_copy_only=False)[order_users]
    order_ids = np.arange(first_order_id, first_order_id + n)
    status_names = pa.array(list(ref.ORDER_STATUSES))
    orders = pa.table({
        "order_id": pa.array(order_ids, pa.int64()),
        "user_id": pa.array(user_ids, pa.int64()),
        "status": status_names.take(pa.array(status)),
        "gender": pa.array(user_gender, pa.string()),
        "created_at": ts_array(order_created),
        "returned_at": ts_array(returned, returned < 0),
        "shipped_at": ts_array(shipped, shipped < 0),
        "delivered_at": ts_array(delivered, delivered < 0),
        "num_of_item": pa.array(num_items, pa.int64()),
    })

    # order_items: num_of_item rows per order; products from the user's department.
    item_order = np.repeat(np.arange(n), num_items)
    m = len(item_order)
    offsets = np.concatenate([[0], np.cumsum(num_items)[:-1]])
    pos_in_order = np.arange(m) - offsets[item_order]
    dept = products_tbl["department"].to_numpy(zero_copy_only=False)
    men_idx, women_idx = np.flatnonzero(dept == "Men"), np.flatnonzero(dept == "Women")
    is_f = user_gender[item_order] == "F"
    prod_row = np.where(is_f, women_idx[rng.integers(0, len(women_idx), m)],
                        men_idx[rng.integers(0, len(men_idx), m)])
    # Items start near the order's created_at and drift up to ~4 days in multi-item orders.
    item_created = (order_created[item_order] + rng.integers(0, 60, m)
                    + pos_in_order * rng.integers(0, int(1.3 * DAY), m))
    retail = products_tbl["retail_price"].to_numpy()

    # inventory: the sold unit per item + 1–3 unsold units of the same product.
    sold_created = item_created - rng.integers(0, 60 * DAY, m)
    n_unsold = np.array(list(ref.UNSOLD_UNITS_WEIGHTS))[choice(rng, ref.UNSOLD_UNITS_WEIGHTS, m)]
    unsold_prod = np.repeat(prod_row, n_unsold)
    lo = epoch(UNSOLD_INVENTORY_START)
    lo = min(lo, horizon_s - DAY)
    unsold_created = rng.integers(lo, horizon_s, len(unsold_prod))
    inv_created = np.concatenate([sold_created, unsold_created])
    inv_sold = np.concatenate([item_created, np.full(len(unsold_prod), -1)])
    inv_prod = np.concatenate([prod_row, unsold_prod])
    inv_sort = np.argsort(inv_created, kind="stable")
    inv_ids_sorted = np.arange(first_inventory_id, first_inventory_id + len(inv_sort))
    inv_id_of = np.empty(len(inv_sort), dtype=np.int64)
    inv_id_of[inv_sort] = inv_ids_sorted
    item_inventory_id = inv_id_of[:m]

    def copy_order(col: str) -> pa.Array:
        return orders[col].combine_chunks().take(pa.array(item_order))

    order_items = pa.table({
        "id": pa.array(np.arange(first_item_id, first_item_id + m), pa.int64()),
        "order_id": pa.array(order_ids[item_order], pa.int64()),
        "user_id": pa.array(user_ids[item_order], pa.int64()),
        "product_id": products_tbl["id"].combine_chunks().take(pa.array(prod_row)),
        "inventory_item_id": pa.array(item_inventory_id, pa.int64()),
        "status": copy_order("status"),
        "created_at": ts_array(item_created),
        "shipped_at": copy_order("shipped_at"),
        "delivered_at": copy_order("delivered_at"),
        "returned_at": copy_order("returned_at"),
        "sale_price": pa.array(retail[prod_row]),
    })
    p = products_tbl.take(pa.array(inv_prod[inv_sort]))
    sold_sorted = inv_sold[inv_sort]
    inventory = pa.table({
        "id": pa.array(inv_ids_sorted, pa.int64()),
        "product_id": p["id"],
        "created_at": ts_array(inv_created[inv_sort]),
        "sold_at": ts_array(sold_sorted, sold_sorted < 0),
        "cost": p["cost"],
        "product_category": p["category"],
        "product_name": p["name"],
        "product_brand": p["brand"],
        "product_retail_price": p["retail_price"],
        "product_department": p["department"],
        "product_sku": p["sku"],
        "product_distribution_center_id": p["distribution_center_id"],
    })
    return Sales(orders, order_items, inventory)


# --------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------

_EVT = {name: i for i, name in enumerate(ref.EVENT_TYPES)}


def _uri_lookup(products_tbl: pa.Table) -> tuple[pa.Array, int, int]:
    """One string array holding every possible uri: 4 fixed, then per-product ones."""
    def slug(a: pa.Array) -> pa.Array:
        return pc.replace_substring(pc.utf8_lower(a), " ", "")

    dept_uri = join("/department/", slug(products_tbl["department"].combine_chunks()),
                    "/category/", slug(products_tbl["category"].combine_chunks()),
                    "/brand/", slug(products_tbl["brand"].combine_chunks()), sep="")
    prod_uri = join("/product/", products_tbl["id"].combine_chunks().cast(pa.string()), sep="")
    fixed = pa.array(["/home", "/cart", "/purchase", "/cancel"])
    lookup = pa.concat_arrays([fixed, dept_uri, prod_uri])
    return lookup, 4, 4 + len(products_tbl)


def _events_table(rng: np.random.Generator, session_of_event: np.ndarray, seq: np.ndarray,
                  etype: np.ndarray, prod_row: np.ndarray, created: np.ndarray,
                  session_user_id: np.ndarray, session_user_row: np.ndarray,
                  users_tbl: pa.Table, products_tbl: pa.Table) -> pa.Table:
    """Assemble events given per-event arrays and per-session user info (id -1 = anonymous)."""
    n_sessions = len(session_user_id)
    lookup, dept_off, prod_off = _uri_lookup(products_tbl)
    fixed_idx = {"home": 0, "cart": 1, "purchase": 2, "cancel": 3}
    uri_idx = np.select(
        [etype == _EVT["department"], etype == _EVT["product"], etype == _EVT["home"],
         etype == _EVT["cart"], etype == _EVT["purchase"]],
        [dept_off + prod_row, prod_off + prod_row, fixed_idx["home"], fixed_idx["cart"],
         fixed_idx["purchase"]], default=fixed_idx["cancel"])
    sid = hex_strings(rng, n_sessions, 16, uuid4=True)
    ip = join(*[int_str(rng.integers(lo, 255, n_sessions)) for lo in (1, 0, 0, 1)], sep=".")
    browser = pool_take(list(ref.BROWSERS), choice(rng, ref.BROWSERS, n_sessions))
    traffic = pool_take(list(ref.EVENT_TRAFFIC_SOURCES),
                        choice(rng, ref.EVENT_TRAFFIC_SOURCES, n_sessions))
    s_idx = pa.array(session_of_event)
    user_rows = pa.array(session_user_row[session_of_event])
    uid = session_user_id[session_of_event]
    return pa.table({
        "id": pa.array(np.zeros(len(seq), dtype=np.int64)),  # numbered after sorting
        "user_id": pa.array(uid, pa.int64(), mask=uid < 0),
        "sequence_number": pa.array(seq, pa.int64()),
        "session_id": sid.take(s_idx),
        "created_at": ts_array(created),
        "ip_address": ip.take(s_idx),
        "city": users_tbl["city"].combine_chunks().take(user_rows),
        "state": users_tbl["state"].combine_chunks().take(user_rows),
        "postal_code": users_tbl["postal_code"].combine_chunks().take(user_rows),
        "browser": browser.take(s_idx),
        "traffic_source": traffic.take(s_idx),
        "uri": lookup.take(pa.array(uri_idx)),
        "event_type": pa.array(list(ref.EVENT_TYPES)).take(pa.array(etype)),
    })


def _empty_events() -> pa.Table:
    types = {"id": pa.int64(), "user_id": pa.int64(), "sequence_number": pa.int64(),
             "created_at": TS}
    return pa.table({c: pa.array([], types.get(c, pa.string())) for c in COLUMNS["events"]})


def events_for_items(rng: np.random.Generator, sales: Sales, users_tbl: pa.Table,
                     products_tbl: pa.Table) -> pa.Table:
    """Purchase sessions: one per order item, each walking its whole order.

    One-item orders: home, department, product, cart, purchase. n-item orders:
    (department, product, cart) for each item, then purchase. Events 0–180 s apart,
    the purchase at the item's created_at.
    """
    items = sales.order_items
    orders = sales.orders
    if items.num_rows == 0:
        return _empty_events()
    n_items_of_order = orders["num_of_item"].to_numpy()
    # order row of each item: items are grouped by order in order_id order.
    item_order_row = items["order_id"].to_numpy() - orders["order_id"].to_numpy()[0]
    n_in_order = n_items_of_order[item_order_row]
    sess_len = np.where(n_in_order == 1, 5, 3 * n_in_order + 1)
    n_sessions = len(items)
    session_of_event = np.repeat(np.arange(n_sessions), sess_len)
    starts = np.concatenate([[0], np.cumsum(sess_len)[:-1]])
    pos = np.arange(len(session_of_event)) - starts[session_of_event]
    n_ev = n_in_order[session_of_event]
    single = n_ev == 1
    single_types = np.array([_EVT[t] for t in ("home", "department", "product", "cart", "purchase")])
    triple_types = np.array([_EVT[t] for t in ("department", "product", "cart")])
    etype = np.where(single, single_types[np.minimum(pos, 4)],
                     np.where(pos == 3 * n_ev, _EVT["purchase"], triple_types[pos % 3]))
    # product of an event: the j-th item of the session's order
    order_first_item = np.concatenate([[0], np.cumsum(n_items_of_order)[:-1]])
    j = np.where(single, 0, np.minimum(pos // 3, n_ev - 1))
    item_row = order_first_item[item_order_row[session_of_event]] + j
    product_ids = items["product_id"].to_numpy()
    prod_row = np.searchsorted(products_tbl["id"].to_numpy(), product_ids[item_row])
    gaps = rng.integers(0, 181, len(pos))
    gaps[pos == 0] = 0
    csum = np.cumsum(gaps)
    within = csum - csum[starts][session_of_event]
    span = within[starts + sess_len - 1]
    item_created = items["created_at"].cast(pa.int64()).to_numpy() // 1_000_000
    created = item_created[session_of_event] - (span[session_of_event] - within)
    user_ids = items["user_id"].to_numpy()
    user_rows = np.searchsorted(users_tbl["id"].to_numpy(), user_ids)
    return _events_table(rng, session_of_event, pos + 1, etype, prod_row, created,
                         user_ids, user_rows, users_tbl, products_tbl)


def anonymous_events(rng: np.random.Generator, user_rows: np.ndarray, users_tbl: pa.Table,
                     products_tbl: pa.Table, horizon_s: int) -> pa.Table:
    """Five anonymous sessions per given user (user_id null), events 0–30 min apart."""
    n_sessions = len(user_rows) * ref.ANONYMOUS_SESSIONS_PER_USER
    if n_sessions == 0:
        return _empty_events()
    sess_user_row = np.repeat(user_rows, ref.ANONYMOUS_SESSIONS_PER_USER)
    shapes = ref.ANONYMOUS_SESSION_SHAPES
    shape = rng.integers(0, len(shapes), n_sessions)
    width = max(len(s) for s in shapes)
    shape_types = np.full((len(shapes), width), -1)
    for i, s in enumerate(shapes):
        shape_types[i, : len(s)] = [_EVT[t] for t in s]
    sess_len = np.array([len(s) for s in shapes])[shape]
    session_of_event = np.repeat(np.arange(n_sessions), sess_len)
    starts = np.concatenate([[0], np.cumsum(sess_len)[:-1]])
    pos = np.arange(len(session_of_event)) - starts[session_of_event]
    etype = shape_types[shape[session_of_event], pos]
    sess_prod = rng.integers(0, len(products_tbl), n_sessions)
    user_created = users_tbl["created_at"].cast(pa.int64()).to_numpy()[sess_user_row] // 1_000_000
    start = user_created + (rng.random(n_sessions) * np.maximum(horizon_s - user_created - 3600, 1)
                            ).astype(np.int64)
    gaps = rng.integers(0, 1801, len(pos))
    gaps[pos == 0] = 0
    csum = np.cumsum(gaps)
    within = csum - csum[starts][session_of_event]
    created = start[session_of_event] + within
    return _events_table(rng, session_of_event, pos + 1, etype, sess_prod[session_of_event],
                         created, np.full(n_sessions, -1), sess_user_row, users_tbl,
                         products_tbl)


def number_events(events: pa.Table, first_id: int) -> pa.Table:
    """Sort events by time and give them contiguous ids from ``first_id``."""
    order = pc.sort_indices(events, sort_keys=[("created_at", "ascending"),
                                               ("session_id", "ascending"),
                                               ("sequence_number", "ascending")])
    events = events.take(order)
    ids = pa.array(np.arange(first_id, first_id + len(events)), pa.int64())
    return events.set_column(0, "id", ids)


# --------------------------------------------------------------------------------------
# Whole dataset
# --------------------------------------------------------------------------------------


def orders_per_user(rng: np.random.Generator, n_users: int) -> np.ndarray:
    """0 orders for ~20% of users, else geometric so the mean is 1.25 orders per user."""
    mean_if_any = ref.ORDERS_PER_USER / ref.ORDERING_USER_SHARE
    k = rng.geometric(1.0 / mean_if_any, n_users)
    return np.where(rng.random(n_users) < ref.ORDERING_USER_SHARE, k, 0)


def generate(scale: float, seed: int, as_of: dt.date) -> dict[str, pa.Table]:
    """All seven clean tables at ``scale`` (1.0 = real sizes) with data up to ``as_of``."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    rng = np.random.default_rng(seed)
    horizon = epoch(as_of)
    start = epoch(USERS_START)
    if horizon - start < 30 * DAY:
        raise ValueError(f"as_of {as_of} must be at least 30 days after {USERS_START.date()}")
    geo = geography(rng)
    prods = products(rng, scale)
    n_users = max(10, round(ref.USERS_AT_SCALE_1 * scale))
    usr = users(rng, n_users, 1, start, horizon, geo)
    per_user = orders_per_user(rng, n_users)
    order_users = np.repeat(np.arange(n_users), per_user)
    u_created = usr["created_at"].cast(pa.int64()).to_numpy() // 1_000_000
    oc = u_created[order_users]
    order_created = oc + (rng.random(len(oc)) * (horizon - oc)).astype(np.int64)
    sales = sales_for_orders(rng, order_users, order_created, usr, prods, 1, 1, 1, horizon)
    purchase = events_for_items(rng, sales, usr, prods)
    anon = anonymous_events(rng, np.arange(n_users), usr, prods, horizon)
    events = number_events(pa.concat_tables([purchase, anon]), 1)
    return {
        "distribution_centers": distribution_centers(),
        "products": prods,
        "users": usr,
        "orders": sales.orders,
        "order_items": sales.order_items,
        "inventory_items": sales.inventory_items,
        "events": events,
    }
