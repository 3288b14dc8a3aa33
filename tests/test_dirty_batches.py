"""Dirty batches: each dirt kind at its rate, value by value, and coherence with the seed."""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from ecommerce_assets.formats import NULL_SENTINELS, TIMESTAMP_FORMATS
from resources.fx_rates import STATIC_RATES_TO_USD
from test_data.thelook_ecommerce import generate as generate_cli
from test_data.thelook_ecommerce import seed as seed_cli
from test_data.thelook_ecommerce import synthetic
from test_data.thelook_ecommerce.batches import make_batch
from test_data.thelook_ecommerce.dirt import (
    BAD_KEYS,
    BAD_TIMESTAMPS,
    CASE_COLUMNS,
    PRICE_COLUMNS,
    make_dirty,
)
from test_data.thelook_ecommerce.state import KEPT_TABLES, GeneratorState, next_ids_after
from tests.conftest import AS_OF

# An independent reference parser for each of the seven formats (test code, not the product).
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
REFERENCE_PARSERS: list[tuple[str, re.Pattern, callable]] = [
    ("iso8601_utc", re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$"),
     lambda m: dt.datetime(*map(int, m.groups()), tzinfo=dt.UTC)),
    ("bigquery_utc", re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) UTC$"),
     lambda m: dt.datetime(*map(int, m.groups()), tzinfo=dt.UTC)),
    ("sql_naive_utc", re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)$"),
     lambda m: dt.datetime(*map(int, m.groups()), tzinfo=dt.UTC)),
    ("slashed_ymd", re.compile(r"^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)$"),
     lambda m: dt.datetime(*map(int, m.groups()), tzinfo=dt.UTC)),
    ("day_mon_year", re.compile(r"^(\d\d)-([A-Z][a-z]{2})-(\d{4}) (\d\d):(\d\d):(\d\d)$"),
     lambda m: dt.datetime(int(m[3]), _MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]),
                           int(m[6]), tzinfo=dt.UTC)),
    ("rfc1123", re.compile(r"^[A-Z][a-z]{2}, (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) GMT$"),
     lambda m: dt.datetime(int(m[3]), _MONTHS[m[2]], int(m[1]), int(m[4]), int(m[5]),
                           int(m[6]), tzinfo=dt.UTC)),
    ("unix_epoch_s", re.compile(r"^(\d{9,11})$"),
     lambda m: dt.datetime.fromtimestamp(int(m[1]), tz=dt.UTC)),
]
CURRENCY_RE = re.compile(r"^(\$|EUR |£|¥)?(\d+(?:\.\d+)?)$")
CODE_OF = {None: "USD", "$": "USD", "EUR ": "EUR", "£": "GBP", "¥": "JPY"}


def parse_reference(value: str) -> tuple[str, dt.datetime]:
    for name, pattern, build in REFERENCE_PARSERS:
        m = pattern.match(value)
        if m:
            return name, build(m)
    raise AssertionError(f"no format matches {value!r}")


@pytest.fixture(scope="module")
def dirty_orders(thelook) -> tuple[pa.Table, object]:
    return thelook["orders"], make_dirty("orders", thelook["orders"], np.random.default_rng(3))


def distinct_rows(dirty) -> np.ndarray:
    """Output positions of the first occurrence of each clean row (skip injected duplicates)."""
    _, first = np.unique(dirty.source_row, return_index=True)
    return np.sort(first)


def test_timestamps_use_all_seven_formats_and_parse_back_exactly(dirty_orders) -> None:
    clean, dirty = dirty_orders
    rows = distinct_rows(dirty)
    bad = set(dirty.malformed_rows["bad_timestamp"])
    seen = {f.name: 0 for f in TIMESTAMP_FORMATS}
    total = 0
    for col in ("created_at", "shipped_at", "delivered_at", "returned_at"):
        truth = clean[col].to_pylist()
        values = dirty.table[col].to_pylist()
        for pos in rows:
            src = dirty.source_row[pos]
            raw = values[pos]
            if col == "created_at" and src in bad:
                assert raw in BAD_TIMESTAMPS
                continue
            if truth[src] is None:
                assert raw.strip() in NULL_SENTINELS
                continue
            name, parsed = parse_reference(raw)
            assert parsed == truth[src], (col, raw, truth[src])
            seen[name] += 1
            total += 1
    for name, n in seen.items():
        assert n / total == pytest.approx(1 / 7, abs=0.02), (name, n / total)


def test_null_sentinels_replace_every_null(dirty_orders) -> None:
    clean, dirty = dirty_orders
    rows = distinct_rows(dirty)
    src = dirty.source_row[rows]
    used = {s: 0 for s in NULL_SENTINELS}
    for col in ("returned_at", "shipped_at", "delivered_at"):
        is_null = np.asarray(clean[col].is_null())[src]
        values = np.asarray(dirty.table[col].to_pylist(), dtype=object)[rows]
        assert all(v in NULL_SENTINELS for v in values[is_null])
        assert not any(v in NULL_SENTINELS for v in values[~is_null])
        for v in values[is_null]:
            used[v] += 1
    total = sum(used.values())
    for s, n in used.items():
        assert n / total == pytest.approx(0.2, abs=0.03), s
    assert total == sum(v for k, v in dirty.counts.items() if k.startswith("null_sentinel."))


def test_mixed_case_and_padding_keep_the_value(dirty_orders) -> None:
    clean, dirty = dirty_orders
    rows = distinct_rows(dirty)
    src = dirty.source_row[rows]
    status = np.asarray(dirty.table["status"].to_pylist(), dtype=object)[rows]
    truth = np.asarray(clean["status"].to_pylist(), dtype=object)[src]
    stripped = np.array([s.strip() for s in status], dtype=object)
    assert all(a.lower() == b.lower() for a, b in zip(stripped, truth, strict=True))
    changed_case = np.mean(stripped != truth)
    assert changed_case == pytest.approx(0.30, abs=0.03)  # lower/UPPER/sWAP always differ here
    padded = np.mean([s != s.strip() for s in status])
    assert padded == pytest.approx(0.15, abs=0.02)
    assert {s.strip().lower() for s in status} == {s.lower() for s in ("Shipped", "Complete",
                                                                        "Processing", "Cancelled",
                                                                        "Returned")}
    assert set(CASE_COLUMNS["orders"]) == {"status", "gender"}


def test_currency_markers_and_converted_amounts(thelook) -> None:
    clean = thelook["order_items"]
    dirty = make_dirty("order_items", clean, np.random.default_rng(5))
    rows = distinct_rows(dirty)
    truth = clean["sale_price"].to_numpy()[dirty.source_row[rows]]
    values = np.asarray(dirty.table["sale_price"].to_pylist(), dtype=object)[rows]
    codes = []
    for raw, usd in zip(values, truth, strict=True):
        m = CURRENCY_RE.match(raw)
        assert m, raw
        code = CODE_OF[m[1]]
        codes.append(code)
        back_to_usd = float(m[2]) * STATIC_RATES_TO_USD[code]
        tolerance = 1e-9 if code == "USD" else STATIC_RATES_TO_USD[code] * 0.51
        assert back_to_usd == pytest.approx(usd, abs=tolerance), (raw, usd)
    codes = np.array(codes)
    marked = np.mean([m[1] is not None for m in map(CURRENCY_RE.match, values)])
    assert marked == pytest.approx(0.40, abs=0.03)
    for code in ("EUR", "GBP", "JPY"):
        assert np.mean(codes == code) == pytest.approx(0.08, abs=0.02), code
    assert "sale_price" in PRICE_COLUMNS["order_items"]


def test_duplicates_are_identical_rows_placed_after_their_original(thelook) -> None:
    clean = thelook["users"]
    dirty = make_dirty("users", clean, np.random.default_rng(9))
    n = clean.num_rows
    extra = dirty.table.num_rows - n
    assert extra == dirty.counts["duplicates_injected"]
    assert extra / n == pytest.approx(0.03, abs=0.008)
    lines = [tuple(r.values()) for r in dirty.table.to_pylist()]
    first_pos: dict[int, int] = {}
    for pos, src in enumerate(dirty.source_row):
        if src in first_pos:
            assert lines[pos] == lines[first_pos[src]]
        else:
            first_pos[src] = pos
    assert len(lines) - len(set(lines)) == extra


def test_injected_nulls_and_malformed_rows_are_counted(thelook) -> None:
    clean = thelook["users"]
    dirty = make_dirty("users", clean, np.random.default_rng(2))
    rows = distinct_rows(dirty)
    emails = np.asarray(dirty.table["email"].to_pylist(), dtype=object)[rows]
    null_emails = sum(e in NULL_SENTINELS for e in emails)
    assert null_emails / clean.num_rows == pytest.approx(0.01, abs=0.005)
    ids = np.asarray(dirty.table["id"].to_pylist(), dtype=object)[rows]
    bad = [i for i in ids if not i.strip().isdigit()]
    assert len(bad) == dirty.counts["malformed.bad_key"] == len(dirty.malformed_rows["bad_key"])
    assert all(b in BAD_KEYS for b in bad)
    assert 0 < dirty.counts["malformed.bad_key"] + dirty.counts["malformed.bad_timestamp"] < 0.005 * clean.num_rows


# --------------------------------------------------------------------------------------
# Coherence with the seed
# --------------------------------------------------------------------------------------


def state_from(tables: dict[str, pa.Table]) -> GeneratorState:
    return GeneratorState(scale=0.05, seed=7, seed_date=AS_OF.isoformat(),
                          next_ids=next_ids_after(tables),
                          tables={t: tables[t] for t in KEPT_TABLES})


def test_batches_continue_ids_and_reference_existing_rows(thelook) -> None:
    state = state_from(thelook)
    ids_before = dict(state.next_ids)
    day = AS_OF + dt.timedelta(days=1)
    batch = make_batch(state, day, n_orders=400, n_users=300, n_products=8,
                       rng=np.random.default_rng(1))
    t = batch.tables
    new_orders = t["orders"].filter(pa.compute.greater_equal(t["orders"]["order_id"],
                                                             ids_before["orders"]))
    for name, key in (("users", "id"), ("products", "id"), ("inventory_items", "id"),
                      ("events", "id")):
        got = t[name][key].to_numpy()
        assert got.min() == ids_before[name] and np.all(np.diff(np.sort(got)) == 1), name
    assert new_orders["order_id"].to_numpy().min() == ids_before["orders"]
    users_known = set(thelook["users"]["id"].to_pylist()) | set(t["users"]["id"].to_pylist())
    products_known = set(thelook["products"]["id"].to_pylist()) | set(t["products"]["id"].to_pylist())
    assert set(t["orders"]["user_id"].to_pylist()) <= users_known
    assert set(t["order_items"]["product_id"].to_pylist()) <= products_known
    assert set(t["inventory_items"]["product_id"].to_pylist()) <= products_known
    # Some new orders come from existing users, some from today's new users.
    existing = set(thelook["users"]["id"].to_pylist())
    placed = set(new_orders["user_id"].to_pylist())
    assert placed & existing and placed - existing
    # New rows are created during the landing day.
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    created = t["users"]["created_at"].to_pylist()
    assert min(created) >= start and max(created) < start + dt.timedelta(days=1)
    assert batch.new_rows["orders"] == 400 and batch.updated_rows["orders"] <= 80
    assert state.next_ids["orders"] == ids_before["orders"] + 400
    # The next day, yesterday's open orders move forward: a full share of updates.
    nxt = make_batch(state, day + dt.timedelta(days=1), n_orders=400, n_users=10,
                     n_products=1, rng=np.random.default_rng(2))
    assert nxt.updated_rows["orders"] == 80


def test_updates_are_later_versions_that_move_orders_forward(thelook) -> None:
    state = state_from(thelook)
    history: dict[int, list[dict]] = {}
    for offset in (1, 2, 3, 4):
        before = {r["order_id"]: r for r in state.tables["orders"].to_pylist()}
        day = AS_OF + dt.timedelta(days=offset)
        day_start = dt.datetime.combine(day, dt.time(), dt.UTC)
        batch = make_batch(state, day, n_orders=1000, n_users=100, n_products=1,
                           rng=np.random.default_rng(offset))
        items = batch.tables["order_items"]
        for o in batch.tables["orders"].to_pylist():
            if o["order_id"] not in before:
                continue
            prev = before[o["order_id"]]
            history.setdefault(o["order_id"], [prev]).append(o)
            assert (prev["status"], o["status"]) in (("Processing", "Shipped"),
                                                     ("Shipped", "Complete"))
            # THELOOK's windows still hold, and the new step happened during the day.
            assert dt.timedelta(0) <= o["shipped_at"] - o["created_at"] < dt.timedelta(days=3)
            if o["status"] == "Complete":
                assert o["shipped_at"] == prev["shipped_at"]
                assert dt.timedelta(0) <= o["delivered_at"] - o["shipped_at"] < dt.timedelta(days=5)
                assert day_start <= o["delivered_at"] < day_start + dt.timedelta(days=1)
            else:
                assert o["delivered_at"] is None
                assert day_start <= o["shipped_at"] < day_start + dt.timedelta(days=1)
            assert o["returned_at"] is None and o["created_at"] == prev["created_at"]
            mine = items.filter(pa.compute.equal(items["order_id"], o["order_id"])).to_pylist()
            assert len(mine) == o["num_of_item"]
            assert all(i["status"] == o["status"] and i["shipped_at"] == o["shipped_at"]
                       and i["delivered_at"] == o["delivered_at"] for i in mine)
    assert len(history) > 500
    assert any(len(h) == 3 for h in history.values()), "no order went Processing->Shipped->Complete"


def test_batch_with_no_new_users_still_builds(thelook) -> None:
    batch = make_batch(state_from(thelook), AS_OF + dt.timedelta(days=1), n_orders=5,
                       n_users=0, n_products=0, rng=np.random.default_rng(4))
    assert batch.tables["users"].num_rows == 0 and batch.tables["orders"].num_rows >= 5


# --------------------------------------------------------------------------------------
# The CLIs and their manifests
# --------------------------------------------------------------------------------------


def read_raw_csv(path: Path) -> pa.Table:
    """Read a dirty CSV as text exactly as written (no null or type inference)."""
    header = pacsv.read_csv(path, read_options=pacsv.ReadOptions(skip_rows_after_names=10**9))
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={c: pa.string() for c in header.column_names},
        strings_can_be_null=False, quoted_strings_can_be_null=False))


def test_seed_then_generate_cli_accounts_for_every_row(ecommerce_home: Path) -> None:
    assert seed_cli.main(["--scale", "0.01", "--date", "2026-11-01"]) == 0
    assert generate_cli.main(["--date", "2026-11-03", "--days", "2", "--rows", "300"]) == 0
    inbox = ecommerce_home / "buckets" / "inbox"
    manifests = sorted((ecommerce_home / "generator" / "manifests").glob("batch-*.json"))
    assert [m.name for m in manifests] == ["batch-2026-11-02-0001.json",
                                           "batch-2026-11-03-0002.json"]
    for path in manifests:
        manifest = json.loads(path.read_text())
        assert {f["table"] for f in manifest["files"]} == set(synthetic.TABLES)
        for f in manifest["files"]:
            raw = read_raw_csv(inbox / f["key"])
            assert raw.num_rows == f["rows"] == f["rows_distinct"] + f["duplicates_injected"]
            assert f["rows_distinct"] == f["new_rows"] + f["updated_rows"]
            assert raw.column_names == synthetic.COLUMNS[f["table"]]
            lines = raw.to_pylist()
            assert len(lines) - len({tuple(r.values()) for r in lines}) == f["duplicates_injected"]
            # Sentinels counted over distinct lines (a duplicate repeats its original's).
            distinct = {tuple(r.values()) for r in lines}
            sentinels = sum(v in NULL_SENTINELS for r in distinct for v in r)
            assert sentinels == sum(v for k, v in f.items() if k.startswith("null_sentinel."))
    state = json.loads((ecommerce_home / "generator" / "state.json").read_text())
    assert state["batches"] == 2


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_seed_formats_land_in_the_landing_layout(tmp_path: Path, ecommerce_home: Path,
                                                 fmt: str) -> None:
    dest = tmp_path / "inbox"
    args = ["--scale", "0.002", "--date", "2026-10-01", "--format", fmt, "--dest", str(dest)]
    assert seed_cli.main(args + (["--gzip"] if fmt == "jsonl" else [])) == 0
    files = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    ext = f"{fmt}.gz" if fmt == "jsonl" else fmt
    assert files == sorted(f"{t}/date=2026-10-01/seed_{t}.{ext}" for t in synthetic.TABLES)
    import duckdb

    path = str(dest / f"orders/date=2026-10-01/seed_orders.{ext}")
    reader = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}[fmt]
    n = duckdb.sql(f"SELECT count(*) FROM {reader}('{path}')").fetchall()[0][0]
    manifest = json.loads((ecommerce_home / "generator/manifests/seed-2026-10-01.json").read_text())
    assert n == manifest["rows"]["orders"] > 0


def test_seed_splits_large_tables_into_parts(tmp_path: Path, ecommerce_home: Path) -> None:
    dest = tmp_path / "inbox"
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-10-01", "--dest", str(dest),
                          "--max-rows-per-file", "2000"]) == 0
    parts = sorted(p.name for p in (dest / "events/date=2026-10-01").iterdir())
    assert len(parts) > 1 and parts[0] == "seed_events_000.csv"


def test_seed_to_gcs(fake_gcs: str, gcs_bucket: str, ecommerce_home: Path,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", fake_gcs)
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-10-02",
                          "--dest", f"gs://{gcs_bucket}/landing"]) == 0
    from resources.object_store import GCSObjectStore

    store = GCSObjectStore(bucket=gcs_bucket, prefix="landing")
    keys = [o.key for o in store.list()]
    assert sorted(keys) == sorted(f"{t}/date=2026-10-02/seed_{t}.csv" for t in synthetic.TABLES)


def test_generate_without_a_seed_says_so(ecommerce_home: Path, capsys) -> None:
    assert generate_cli.main(["--days", "1"]) == 2
    assert "run seed.py first" in capsys.readouterr().err


def test_seed_and_generate_are_deterministic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(home: Path, seed: str) -> dict[str, bytes]:
        monkeypatch.setenv("ECOMMERCE_HOME", str(home))
        assert seed_cli.main(["--scale", "0.003", "--date", "2026-11-01", "--seed", seed]) == 0
        assert generate_cli.main(["--date", "2026-11-02", "--rows", "50"]) == 0
        inbox = home / "buckets" / "inbox"
        return {p.relative_to(inbox).as_posix(): p.read_bytes()
                for p in sorted(inbox.rglob("*")) if p.is_file()}

    first, again, other = run(tmp_path / "a", "5"), run(tmp_path / "b", "5"), run(tmp_path / "c", "6")
    assert first == again
    assert first.keys() == other.keys()
    assert first["orders/date=2026-11-02/batch_0001.csv"] != other["orders/date=2026-11-02/batch_0001.csv"]


def test_generate_refuses_bad_sizes_and_earlier_days(ecommerce_home: Path, capsys) -> None:
    assert seed_cli.main(["--scale", "0.002", "--date", "2026-11-01"]) == 0
    for bad in (["--rows", "0"], ["--rows", "-3"], ["--fraction", "0"], ["--days", "0"]):
        with pytest.raises(SystemExit) as exc:
            generate_cli.main(["--date", "2026-11-02", *bad])
        assert exc.value.code == 2
    assert generate_cli.main(["--date", "2026-11-05", "--rows", "20"]) == 0
    capsys.readouterr()
    for day in ("2026-11-03", "2026-11-05"):
        assert generate_cli.main(["--date", day, "--rows", "20"]) == 2
        assert "batches must land after 2026-11-05" in capsys.readouterr().err
    assert generate_cli.main(["--date", "2026-11-06", "--rows", "20"]) == 0


def test_manifest_timestamp_counts_match_the_file(ecommerce_home: Path) -> None:
    assert seed_cli.main(["--scale", "0.005", "--date", "2026-11-01"]) == 0
    assert generate_cli.main(["--date", "2026-11-02", "--rows", "400",
                              "--tables", "orders,events"]) == 0
    manifest = json.loads(next((ecommerce_home / "generator/manifests").glob("batch-*")).read_text())
    assert manifest["tables_not_written"] == ["distribution_centers", "products", "users",
                                              "order_items", "inventory_items"]
    for f in manifest["files"]:
        raw = read_raw_csv(ecommerce_home / "buckets/inbox" / f["key"]).to_pylist()
        distinct = {tuple(r.items()) for r in raw}
        seen = {fmt.name: 0 for fmt in TIMESTAMP_FORMATS}
        for row in distinct:
            for col, value in row:
                if col.endswith("_at") and value not in NULL_SENTINELS and value not in BAD_TIMESTAMPS:
                    seen[parse_reference(value)[0]] += 1
        assert seen == {fmt.name: f[f"timestamp_format.{fmt.name}"] for fmt in TIMESTAMP_FORMATS}
