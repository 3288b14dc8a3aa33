"""The DuckDB warehouse: schemas, loads, atomic partition replacement, identifier safety."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resources.keys import InvalidIdentifierError
from resources.warehouse import DuckDBWarehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> DuckDBWarehouse:
    wh = DuckDBWarehouse(path=str(tmp_path / "warehouse.duckdb"))
    wh.ensure_schemas()
    return wh


def day(d: str, n: int, start: int = 0) -> pa.Table:
    return pa.table({"landing_date": pa.array([d] * n), "id": pa.array(range(start, start + n)),
                     "value": pa.array([float(i) for i in range(n)])})


def counts(wh: DuckDBWarehouse, table: str) -> dict[str, int]:
    rows = wh.query_arrow(f"SELECT landing_date, count(*) n FROM {table} GROUP BY 1").to_pylist()
    return {r["landing_date"]: r["n"] for r in rows}


def test_schemas_exist(warehouse: DuckDBWarehouse) -> None:
    names = warehouse.query_arrow("SELECT schema_name FROM information_schema.schemata")
    assert {"bronze", "silver", "gold", "ops"} <= set(names["schema_name"].to_pylist())


def test_load_table_replace_and_append(warehouse: DuckDBWarehouse, tmp_path: Path) -> None:
    assert warehouse.load_table("ops.t", day("2026-11-01", 3)) == 3
    assert warehouse.load_table("ops.t", day("2026-11-02", 2), mode="append") == 2
    assert counts(warehouse, "ops.t") == {"2026-11-01": 3, "2026-11-02": 2}
    pq.write_table(day("2026-11-03", 4), tmp_path / "x.parquet")
    assert warehouse.load_table("ops.t", tmp_path / "x.parquet") == 4
    assert counts(warehouse, "ops.t") == {"2026-11-03": 4}
    assert warehouse.table_exists("ops.t") and not warehouse.table_exists("ops.nope")


def test_replace_partition_is_idempotent_and_leaves_other_days(warehouse: DuckDBWarehouse) -> None:
    warehouse.replace_partition("bronze.t", "landing_date", "2026-11-01", day("2026-11-01", 5))
    warehouse.replace_partition("bronze.t", "landing_date", "2026-11-02", day("2026-11-02", 7))
    for _ in range(2):
        n = warehouse.replace_partition("bronze.t", "landing_date", "2026-11-01",
                                        day("2026-11-01", 3))
        assert n == 3
    assert counts(warehouse, "bronze.t") == {"2026-11-01": 3, "2026-11-02": 7}


def test_failed_replace_leaves_the_previous_partition(warehouse: DuckDBWarehouse) -> None:
    warehouse.replace_partition("bronze.t", "landing_date", "2026-11-01", day("2026-11-01", 5))
    before = warehouse.query_arrow("SELECT * FROM bronze.t ORDER BY id")
    # The DELETE succeeds, then the INSERT fails on a value that is not a number.
    bad = pa.table({"landing_date": ["2026-11-01"] * 2, "id": ["1", "not a number"],
                    "value": [1.0, 2.0]})
    with pytest.raises(duckdb.Error):
        warehouse.replace_partition("bronze.t", "landing_date", "2026-11-01", bad)
    assert warehouse.query_arrow("SELECT * FROM bronze.t ORDER BY id").equals(before)


def test_identifiers_are_validated(warehouse: DuckDBWarehouse) -> None:
    with pytest.raises(InvalidIdentifierError):
        warehouse.replace_partition("bronze.t; DROP SCHEMA ops", "landing_date", "x",
                                    day("x", 1))
    with pytest.raises(InvalidIdentifierError):
        warehouse.replace_partition("bronze.t", "landing_date = landing_date OR 1=1 --", "x",
                                    day("x", 1))
    with pytest.raises(InvalidIdentifierError):
        warehouse.load_table("../x", day("x", 1))


def test_waits_for_another_process_holding_the_lock(warehouse: DuckDBWarehouse) -> None:
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({warehouse.path!r})
        print("locked", flush=True)
        time.sleep(1.5)
        con.close()
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        warehouse.load_table("ops.after_lock", day("2026-11-01", 1))
        assert time.monotonic() - started >= 0.5  # it really waited for the other writer
        impatient = DuckDBWarehouse(path=warehouse.path, lock_timeout_s=0.0)
        assert impatient.table_exists("ops.after_lock")
    finally:
        holder.kill()
        holder.wait()


def test_replace_partition_rejects_rows_of_other_partitions(warehouse: DuckDBWarehouse) -> None:
    warehouse.replace_partition("bronze.t", "landing_date", "2026-11-01", day("2026-11-01", 2))
    mixed = pa.concat_tables([day("2026-11-01", 2), day("2026-11-02", 1)])
    with pytest.raises(ValueError, match="1 rows of the data are not in partition"):
        warehouse.replace_partition("bronze.t", "landing_date", "2026-11-01", mixed)
    with pytest.raises(ValueError, match="must not be None"):
        warehouse.replace_partition("bronze.t", "landing_date", None, day("2026-11-01", 1))
    assert counts(warehouse, "bronze.t") == {"2026-11-01": 2}


def test_record_batch_readers_load(warehouse: DuckDBWarehouse) -> None:
    reader = pa.RecordBatchReader.from_batches(day("d", 1).schema, day("2026-11-01", 4).to_batches())
    assert warehouse.load_table("ops.r", reader) == 4
    reader = pa.RecordBatchReader.from_batches(day("d", 1).schema, day("2026-11-02", 3).to_batches())
    assert warehouse.replace_partition("ops.r", "landing_date", "2026-11-02", reader) == 3
    assert counts(warehouse, "ops.r") == {"2026-11-01": 4, "2026-11-02": 3}


def test_reserved_words_round_trip(warehouse: DuckDBWarehouse) -> None:
    data = pa.table({"select": ["2026-11-01"] * 2, "order": [1, 2], "from": ["a", "b"]})
    assert warehouse.load_table("ops.group", data) == 2
    assert warehouse.replace_partition("ops.group", "select", "2026-11-01", data) == 2
    more = pa.table({"select": ["2026-11-02"], "order": [3], "from": ["c"]})
    assert warehouse.load_table("ops.group", more, mode="append") == 1
    rows = warehouse.query_arrow('SELECT "order", "from" FROM ops."group" ORDER BY 1')
    assert rows.to_pylist() == [{"order": 1, "from": "a"}, {"order": 2, "from": "b"},
                                {"order": 3, "from": "c"}]


def test_bad_identifiers_raise_before_any_sql(warehouse: DuckDBWarehouse) -> None:
    ok = day("2026-11-01", 1)
    with pytest.raises(InvalidIdentifierError):
        warehouse.replace_partition('bronze."t"', "landing_date", "2026-11-01", ok)
    assert not warehouse.table_exists("bronze.t")
    warehouse.replace_partition("bronze.t", "landing_date", "2026-11-01", ok)
    # A new data column would be named in ALTER TABLE: it must be an identifier.
    with pytest.raises(InvalidIdentifierError):
        warehouse.replace_partition("bronze.t", "landing_date", "2026-11-02",
                                    day("2026-11-02", 1).append_column('x" VARCHAR; --',
                                                                       pa.array(["v"])))
    assert warehouse.query_arrow("SELECT * FROM bronze.t").column_names == [
        "landing_date", "id", "value"]
    assert counts(warehouse, "bronze.t") == {"2026-11-01": 1}


def test_a_load_adds_new_columns_others_read_null(warehouse: DuckDBWarehouse,
                                                  tmp_path: Path) -> None:
    warehouse.replace_partition("ops.reg", "landing_date", "2026-11-01", day("2026-11-01", 2))
    newer = day("2026-11-02", 1).append_column("encoding", pa.array(["cp1252"]))
    assert warehouse.replace_partition("ops.reg", "landing_date", "2026-11-02", newer) == 1
    rows = warehouse.query_arrow("SELECT landing_date, encoding FROM ops.reg ORDER BY id, 1")
    assert sorted(rows.to_pylist(), key=str) == sorted([
        {"landing_date": "2026-11-01", "encoding": None},
        {"landing_date": "2026-11-01", "encoding": None},
        {"landing_date": "2026-11-02", "encoding": "cp1252"}], key=str)
    # Parquet files of one partition with different added columns: matched by name.
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(day("2026-11-03", 1).append_column("tier", pa.array(["gold"])), a)
    pq.write_table(day("2026-11-03", 1, start=5), b)
    assert warehouse.replace_partition("ops.reg", "landing_date", "2026-11-03", [a, b]) == 2
    got = warehouse.query_arrow("SELECT id, tier FROM ops.reg WHERE landing_date = "
                                "'2026-11-03' ORDER BY id").to_pylist()
    assert got == [{"id": 0, "tier": "gold"}, {"id": 5, "tier": None}]
    # A failing load rolls its added column back with it.
    bad = pa.table({"landing_date": ["2026-11-04"], "id": ["not a number"], "value": [1.0],
                    "later": ["x"]})
    with pytest.raises(duckdb.Error):
        warehouse.replace_partition("ops.reg", "landing_date", "2026-11-04", bad)
    assert "later" not in warehouse.query_arrow("SELECT * FROM ops.reg LIMIT 0").schema.names


def test_a_held_lock_fails_inside_the_step_where_its_retry_applies(tmp_path: Path) -> None:
    """Issue 16 (1): the DuckDB file held by another process past the lock wait failed the
    run in resource setup, outside the step's retry policy."""
    import subprocess
    import sys

    import dagster as dg

    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('held', flush=True); time.sleep(2.5)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"

        @dg.asset(retry_policy=dg.RetryPolicy(max_retries=5, delay=1))
        def probe(warehouse: DuckDBWarehouse) -> int:
            warehouse.execute("CREATE TABLE IF NOT EXISTS ops.probe AS SELECT 1 AS x")
            return 1

        result = dg.materialize([probe], resources={
            "warehouse": DuckDBWarehouse(path=str(path), lock_timeout_s=0.3)})
        assert result.success
        retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
        assert retries  # it did meet the lock, in the step, and tried again
    finally:
        holder.kill()
        holder.wait()


def test_transpiled_sql_is_cached_on_disk_by_its_text(ecommerce_home: Path) -> None:
    """Every run process transpiles the same statements: the second process reads them."""
    from resources.warehouse import transpile_cached

    wh = DuckDBWarehouse(path=str(ecommerce_home / "w.duckdb"))
    sql = "SELECT COUNTIF(x > 1) AS n FROM UNNEST([1, 2, 3]) AS x"
    out = wh.transpile(sql)
    (cached,) = (ecommerce_home / "cache" / "transpile").glob("*.sql")
    assert cached.read_text() == out and "COUNTIF" not in out
    transpile_cached.cache_clear()  # as a new process would start
    cached.write_text("SELECT 42 AS n")
    assert wh.transpile(sql) == "SELECT 42 AS n"
    assert wh.transpile(sql + " ") != "SELECT 42 AS n"  # another text, another entry
    assert len(list(cached.parent.glob("*.sql"))) == 2


def test_a_session_opens_the_file_once_for_every_operation_inside(tmp_path: Path) -> None:
    """Inside a session the file stays open (another process cannot take its lock), each
    operation works on a cursor of it, and the file is released when the session ends."""
    wh = DuckDBWarehouse(path=str(tmp_path / "w.duckdb"))
    probe = [sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1])",
             wh.path]
    with wh.session():
        wh.execute("CREATE TABLE t AS SELECT 1 AS x")
        with wh.session():  # nested: the same database
            assert wh.table_exists("main.t")  # a result left unfetched by it blocks nothing
            assert wh.query_arrow("SELECT x FROM t").to_pylist() == [{"x": 1}]
        assert subprocess.run(probe, capture_output=True).returncode != 0  # held
    assert subprocess.run(probe, capture_output=True).returncode == 0  # released


def test_a_new_reporting_date_finds_its_statements_transpiled(ecommerce_home: Path) -> None:
    """Date literals are cut out of the transpile cache's key and put back: every statement
    gold runs transpiles to exactly what sqlglot gives for it, on any date, and the
    statements of the next day find the first day's cache entries."""
    import sqlglot

    from ecommerce_assets.gold.refresh import FULL, INCREMENTAL, KEYED, Plan, keyed_statements
    from ecommerce_assets.gold.spec import GOLD_TABLES
    from resources.warehouse import transpile_cached

    def statements(day: dt.date) -> list[str]:
        out = []
        for table in GOLD_TABLES.values():
            out.append(table.select_sql(as_of=day))
            if table.name in KEYED:
                for mode, before in ((FULL, None), (INCREMENTAL, None),
                                     (INCREMENTAL, day - dt.timedelta(days=1))):
                    out += keyed_statements(table, day, Plan(mode, False, "", "d", before))
        return out

    cache = ecommerce_home / "cache" / "transpile"
    transpile_cached.cache_clear()  # what an earlier test of this process left in memory
    first, second = statements(dt.date(2026, 11, 21)), statements(dt.date(2026, 12, 2))
    assert any("'2026-11-21'" in s for s in first)
    for sql in first:
        assert transpile_cached(sql, "duckdb") == sqlglot.transpile(
            sql, read="bigquery", write="duckdb")[0]
    entries = len(list(cache.glob("*.sql")))
    transpile_cached.cache_clear()  # as the next day's run process
    for sql in second:
        assert transpile_cached(sql, "duckdb") == sqlglot.transpile(
            sql, read="bigquery", write="duckdb")[0]
    assert len(list(cache.glob("*.sql"))) == entries  # no statement transpiled again
