"""Hand-made nasty objects through a real partition load: every row accounted for.

Each object of the partition holds its own id range, so each assertion can name the row
it is about. The warehouse is a real DuckDB file and the buckets are real folders.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecommerce_assets.bronze.ingest import (
    Buckets,
    PartitionReport,
    current_registry_sql,
    ingest_partition,
)
from ecommerce_assets.bronze.spec import BRONZE_TABLES
from resources.deployment import local_resources
from resources.warehouse import DuckDBWarehouse

DAY = dt.date(2026, 11, 21)
HEADER = "id,cost,category,name,brand,retail_price,department,sku,distribution_center_id"


class Env:
    def __init__(self) -> None:
        r = local_resources()
        self.warehouse: DuckDBWarehouse = r["warehouse"]
        self.buckets = Buckets(r["inbox_store"], r["staging_store"], r["archive_store"],
                               r["quarantine_store"])

    def put(self, name: str, data: bytes, table: str = "products", day: dt.date = DAY) -> str:
        key = f"{table}/date={day.isoformat()}/{name}"
        self.buckets.inbox.write_bytes(key, data)
        return key

    def ingest(self, table: str = "products", day: dt.date = DAY,
               run_id: str = "run-1") -> PartitionReport:
        return ingest_partition(BRONZE_TABLES[table], day, warehouse=self.warehouse,
                                buckets=self.buckets, run_id=run_id)

    def rows(self, sql: str) -> list[dict]:
        return self.warehouse.query_arrow(sql).to_pylist()

    def product(self, id_: int) -> dict:
        (row,) = self.rows(f"SELECT * FROM bronze.products WHERE id = {id_}")
        return row


@pytest.fixture
def env(ecommerce_home: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    # Files written by the test are complete: no settling time (tested on its own below).
    monkeypatch.setenv("ECOMMERCE_INBOX_SETTLE_S", "0")
    return Env()


def by_object(report: PartitionReport) -> dict[str, dict]:
    return {e["object_key"].rsplit("/", 1)[-1]: e for e in report.registry}


def csv_rows(*rows: str, sep: str = ",", header: str = HEADER, eol: str = "\n") -> str:
    return eol.join([header.replace(",", sep), *rows]) + eol


def nasty_objects(env: Env) -> None:
    env.put("comma.csv", csv_rows(
        '1,$12.50, Jeans ,"Slim, dark",Levi\'s,EUR 23.15,Men,ABC,1',
        "2,N/A,none,-,MISSING,#n/a,NULL,,2",
        '1,$12.50, Jeans ,"Slim, dark",Levi\'s,EUR 23.15,Men,ABC,1',  # duplicate of line 2
        "3,12a,Jeans,x,y,1.0,Men,S,1",  # unreadable cost -> quarantined
        "#REF!,1.0,Jeans,x,y,1.0,Men,S,1",  # bad key -> quarantined
    ).encode())
    env.put("semicolon_crlf_bom.csv", ("\ufeff" + csv_rows(
        "101;£9.84;Tops & Tees;Caf\u00e9 tee;Brand;¥1866;Women;S;3", sep=";", eol="\r\n"))
        .encode())
    env.put("tab.tsv", csv_rows("201\t1.5\tSocks\tPair\tB\t3\tMen\tS\t2", sep="\t").encode())
    env.put("pipe_quoted_newline.txt", csv_rows(
        '301|2|Suits|"Two-piece\nwith | pipe"|B|5|Men|S|2', sep="|").encode())
    env.put("latin1.csv", csv_rows("401,1,Jeans,Se\u00f1or jeans,B,2,Men,S,1")
            .encode("latin-1"))
    filler = "".join(f"{10_000 + i},1,Jeans,plain,B,2,Men,S,1\n" for i in range(3000))
    env.put("late_latin1.csv", (HEADER + "\n" + filler).encode()
            + "499,1,Jeans,Cr\u00e8me,B,2,Men,S,1\n".encode("latin-1"))
    env.put("products.jsonl", b"\n".join([
        json.dumps({"id": 601, "cost": "$2", "retail_price": 4.5, "name": "j",
                    "department": "Women", "coupon": "X1"}).encode(),
        b"{not json",
        json.dumps({"id": "602", "Retail Price": "GBP 3"}).encode(),
        b"",
    ]))
    buf = io.BytesIO()
    pq.write_table(pa.table({"id": pa.array([701, 702], pa.int32()),
                             "cost": [1.25, None], "retail_price": [2.5, 3.0],
                             "name": [" padded ", "N/A"]}), buf)
    env.put("typed.parquet", buf.getvalue())
    env.put("gzipped.csv.gz", gzip.compress(csv_rows("801,1,Jeans,gz,B,2,Men,S,1").encode()))
    env.put("reordered_extra_missing.csv", csv_rows(
        "S9,901,Reordered,7.5,hello", header="sku,ID,Name,retail price,warehouse_note")
        .encode())
    env.put("empty.csv", b"")
    env.put("header_only.csv", (HEADER + "\n").encode())
    env.put("garbage.bin", bytes(range(256)) * 40)
    env.put("truncated.csv.gz", gzip.compress(("\n".join(
        [HEADER] + [f"{i},1,J,n,B,2,Men,S,1" for i in range(2000)])).encode())[:300])
    env.put("ragged.csv", csv_rows("1001,1,Jeans,x,B,2,Men,S,1", "1002,1,Jeans",
                                   "1003,1,Jeans,x,B,2,Men,S,1").encode())
    env.put("no_header.csv", b"1101,1,Jeans,x,B,2,Men,S,1\n1102,1,Jeans,x,B,2,Men,S,1\n")


def test_every_object_is_accounted_for(env: Env) -> None:
    nasty_objects(env)
    report = env.ingest()
    objects = by_object(report)
    for name, entry in objects.items():
        assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_quarantined"], name
    rejected = {n for n, e in objects.items() if e["status"] == "rejected"}
    assert rejected == {"empty.csv", "garbage.bin", "truncated.csv.gz", "no_header.csv"}
    assert "gzip" in objects["truncated.csv.gz"]["reason"]
    assert "key column 'id'" in objects["no_header.csv"]["reason"]
    expected = {"comma.csv": (5, 3, 2), "semicolon_crlf_bom.csv": (1, 1, 0), "tab.tsv": (1, 1, 0),
                "pipe_quoted_newline.txt": (1, 1, 0), "latin1.csv": (1, 1, 0),
                "late_latin1.csv": (3001, 3001, 0), "products.jsonl": (3, 2, 1),
                "typed.parquet": (2, 2, 0), "gzipped.csv.gz": (1, 1, 0),
                "reordered_extra_missing.csv": (1, 1, 0), "header_only.csv": (0, 0, 0),
                "ragged.csv": (3, 2, 1)}
    got = {n: (e["rows_read"], e["rows_loaded"], e["rows_quarantined"])
           for n, e in objects.items() if n in expected}
    assert got == expected
    (total,) = env.rows("SELECT count(*) AS n FROM bronze.products")
    assert total["n"] == report.rows == sum(v[1] for v in expected.values())


def test_values_are_cleaned_as_specified(env: Env) -> None:
    nasty_objects(env)
    env.ingest()
    first = env.rows(
        "SELECT * FROM bronze.products WHERE id = 1 ORDER BY source_line")
    assert [r["is_duplicate_in_file"] for r in first] == [False, True]
    row = first[0]
    assert (row["cost"], row["cost_value_type"]) == (12.5, "USD")
    assert (row["retail_price"], row["retail_price_value_type"]) == (23.15, "EUR")
    assert row["category"] == "Jeans" and row["name"] == "Slim, dark"  # trimmed, quoted comma
    assert row["source_line"] == 2 and row["source_object"].endswith("/comma.csv")
    assert row["landing_date"] == DAY and row["extra_columns"] is None
    sentinels = env.product(2)
    assert [sentinels[c] for c in ("cost", "category", "name", "brand", "retail_price",
                                   "department", "sku")] == [None] * 7
    semi = env.product(101)
    assert (semi["name"], semi["cost_value_type"], semi["retail_price"]) == (
        "Caf\u00e9 tee", "GBP", 1866.0)
    assert semi["retail_price_value_type"] == "JPY" and semi["distribution_center_id"] == 3
    assert env.product(201)["category"] == "Socks"
    assert env.product(301)["name"] == "Two-piece\nwith | pipe"
    assert env.product(401)["name"] == "Se\u00f1or jeans"
    assert env.product(499)["name"] == "Cr\u00e8me"
    jl = env.product(601)
    assert (jl["cost"], jl["cost_value_type"], jl["retail_price"]) == (2.0, "USD", 4.5)
    assert json.loads(jl["extra_columns"]) == {"coupon": "X1"}
    assert (env.product(602)["retail_price"], env.product(602)["retail_price_value_type"]) == (
        3.0, "GBP")
    assert env.product(701)["name"] == "padded" and env.product(702)["name"] is None
    assert env.product(801)["name"] == "gz"
    moved = env.product(901)
    assert (moved["sku"], moved["name"], moved["retail_price"]) == ("S9", "Reordered", 7.5)
    assert json.loads(moved["extra_columns"]) == {"warehouse_note": "hello"}


def test_quarantine_keeps_raw_values_line_and_reason(env: Env) -> None:
    nasty_objects(env)
    report = env.ingest()
    rows = env.rows("SELECT source_object, source_line, reason, raw_values FROM ops.quarantine "
                    "ORDER BY source_object, source_line")
    got = [(r["source_object"].rsplit("/", 1)[-1], r["source_line"], r["reason"]) for r in rows]
    assert got == [
        ("comma.csv", 5, "cost: not a valid price"),
        ("comma.csv", 6, "id: not a valid int"),
        ("products.jsonl", 2, "not a JSON object"),
        ("ragged.csv", 3, "expected 9 fields, found 3"),
    ]
    assert json.loads(rows[0]["raw_values"])["cost"] == "12a"
    assert json.loads(rows[3]["raw_values"]) == {"raw_line": "1002,1,Jeans"}
    missing = by_object(report)["reordered_extra_missing.csv"]
    assert missing["missing_columns"] == ("cost,category,brand,department,"
                                          "distribution_center_id")
    assert missing["extra_columns"] == "warehouse_note"


def test_rerun_is_idempotent_and_originals_are_archived(env: Env) -> None:
    nasty_objects(env)
    first = env.ingest(run_id="a")
    counts = env.rows("SELECT count(*) AS n FROM bronze.products")
    second = env.ingest(run_id="b")
    assert env.rows("SELECT count(*) AS n FROM bronze.products") == counts
    assert [(e["object_key"], e["status"], e["rows_loaded"]) for e in second.registry] == [
        (e["object_key"], e["status"], e["rows_loaded"]) for e in first.registry]
    # History stays; the current rows are those of the newest run.
    assert env.rows("SELECT DISTINCT run_id FROM ops.file_registry ORDER BY 1") == [
        {"run_id": "a"}, {"run_id": "b"}]
    assert env.rows(f"SELECT DISTINCT run_id FROM {current_registry_sql()} AS c") == [
        {"run_id": "b"}]
    archived = {i.key for i in env.buckets.archive.list("products/")}
    quarantined = {i.key for i in env.buckets.quarantine.list("products/")}
    assert f"products/date={DAY}/comma.csv" in archived
    assert {k.rsplit("/", 1)[-1] for k in quarantined} == {
        "empty.csv", "garbage.bin", "truncated.csv.gz", "no_header.csv"}
    # Rejected objects were moved out of the inbox; loaded ones stay.
    inbox = {i.key.rsplit("/", 1)[-1] for i in env.buckets.inbox.list("products/")}
    assert "garbage.bin" not in inbox and "comma.csv" in inbox
    staged = [i.key for i in env.buckets.staging.list("bronze/products/")]
    assert len(staged) == sum(1 for e in second.registry if e["status"] == "loaded")


def test_backfill_after_the_inbox_was_emptied_reads_the_archive(env: Env) -> None:
    nasty_objects(env)
    before = env.ingest(run_id="a")
    for info in list(env.buckets.inbox.list("products/")):
        env.buckets.inbox.delete(info.key)
    after = env.ingest(run_id="b")
    assert after.rows == before.rows
    assert {e["status"] for e in after.registry} == {"loaded", "rejected"}
    assert all(e["read_from"].split(":")[0] in ("archive", "quarantine")
               for e in after.registry)


def test_failure_mid_load_leaves_the_previous_partition(env: Env,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    env.put("a.csv", csv_rows("1,1,Jeans,a,B,2,Men,S,1").encode())
    env.ingest()
    env.put("b.csv", csv_rows("2,1,Jeans,b,B,2,Men,S,1", "3,x,Jeans,b,B,2,Men,S,1").encode())
    original = DuckDBWarehouse._replace_one
    calls = []

    def failing(self, conn, write, name):  # bronze rows are written, then the quarantine fails
        calls.append(write.table)
        if write.table == "ops.quarantine":
            raise RuntimeError("disk full")
        return original(self, conn, write, name)

    monkeypatch.setattr(DuckDBWarehouse, "_replace_one", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        env.ingest(run_id="b")
    assert calls == ["bronze.products", "ops.quarantine"]
    assert env.rows("SELECT id FROM bronze.products") == [{"id": 1}]
    assert env.rows("SELECT count(*) AS n FROM ops.quarantine") == [{"n": 0}]
    assert env.rows("SELECT object_key FROM ops.file_registry") == [
        {"object_key": f"products/date={DAY}/a.csv"}]
    assert not env.buckets.archive.exists(f"products/date={DAY}/b.csv")
    monkeypatch.setattr(DuckDBWarehouse, "_replace_one", original)
    assert env.ingest(run_id="c").rows == 2


def test_same_content_under_another_name_is_skipped(env: Env) -> None:
    body = csv_rows("1,1,Jeans,a,B,2,Men,S,1").encode()
    env.put("a.csv", body)
    env.ingest()
    later = DAY + dt.timedelta(days=1)
    env.put("copy_of_a.csv", body, day=later)
    env.put("new.csv", csv_rows("2,1,Jeans,a,B,2,Men,S,1").encode(), day=later)
    report = env.ingest(day=later)
    objects = by_object(report)
    assert objects["copy_of_a.csv"]["status"] == "skipped_duplicate"
    assert f"products/date={DAY}/a.csv" in objects["copy_of_a.csv"]["reason"]
    assert objects["new.csv"]["status"] == "loaded" and report.rows == 1


def test_undated_objects_are_dated_by_upload_time(env: Env) -> None:
    today = dt.datetime.now(dt.UTC).date()
    env.buckets.inbox.write_bytes("products/loose.csv",
                                  csv_rows("5,1,Jeans,a,B,2,Men,S,1").encode())
    assert env.ingest(day=today - dt.timedelta(days=1)).rows == 0
    report = env.ingest(day=today)
    assert report.rows == 1
    assert report.registry[0]["object_key"] == f"products/undated/date={today}/loose.csv"


def test_invalid_object_names_are_recorded_not_read(env: Env) -> None:
    folder = Path(env.buckets.inbox.root) / f"products/date={DAY}"
    folder.mkdir(parents=True)
    (folder / "bad name;drop.csv").write_text(csv_rows("1,1,J,a,B,2,Men,S,1"))
    report = env.ingest()
    (entry,) = report.registry
    assert entry["status"] == "rejected" and "invalid object name" in entry["reason"]
    assert report.rows == 0


def test_bronze_partition_passes_its_pandera_schema_in_pandas(env: Env) -> None:
    nasty_objects(env)
    env.ingest()
    frame = env.warehouse.query_arrow("SELECT * FROM bronze.products").to_pandas()
    BRONZE_TABLES["products"].schema.validate(frame)


def test_a_partition_loads_from_gcs(ecommerce_home: Path, fake_gcs: str, gcs_bucket: str) -> None:
    """The same load against a real GCS API (fake-gcs-server): dated, undated, rejected."""
    from resources.object_store import GCSObjectStore

    stores = {b: GCSObjectStore(bucket=gcs_bucket, prefix=b, endpoint=fake_gcs)
              for b in ("inbox", "staging", "archive", "quarantine")}
    env = Env()
    env.buckets = Buckets(**stores)
    today = dt.datetime.now(dt.UTC).date()
    env.put("a.csv.gz", gzip.compress(csv_rows("1,$1,Jeans,a,B,2,Men,S,1").encode()), day=today)
    env.buckets.inbox.write_bytes("products/undated.csv",
                                  csv_rows("2,1,Jeans,b,B,2,Men,S,1").encode())
    env.put("garbage.bin", bytes(range(256)) * 4, day=today)
    report = env.ingest(day=today)
    assert report.rows == 2
    assert {e["object_key"].rsplit("/", 1)[-1]: e["status"] for e in report.registry} == {
        "a.csv.gz": "loaded", "undated.csv": "loaded", "garbage.bin": "rejected"}
    assert stores["archive"].exists(f"products/undated/date={today}/undated.csv")
    assert stores["quarantine"].exists(f"products/date={today}/garbage.bin")
    assert not stores["inbox"].exists(f"products/date={today}/garbage.bin")
    assert len(list(stores["staging"].list("bronze/products/"))) == 2
    assert env.product(1)["cost_value_type"] == "USD"


def test_duplicates_are_flagged_across_batches(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small blocks split the object into many batches; later batches repeat earlier rows
    only, and every repeat is flagged exactly once per extra occurrence."""
    from ecommerce_assets.bronze import readers

    monkeypatch.setattr(readers, "BATCH_BYTES", 1024)
    rows = [f"{i},1,Jeans,name {i},B,2,Men,S,1" for i in range(200)]
    env.put("repeats.csv", csv_rows(*rows, *rows, *rows[:50]).encode())
    report = env.ingest()
    (entry,) = report.registry
    assert (entry["rows_read"], entry["rows_loaded"], entry["duplicates_flagged"]) == (450, 450, 250)
    flagged = env.rows("SELECT min(source_line) AS first FROM bronze.products "
                       "WHERE is_duplicate_in_file")
    assert flagged == [{"first": 202}]  # line 202 is the first row of the second copy


def test_the_sample_file_the_readme_offers_loads_cleanly(env: Env) -> None:
    """README: a CSV dropped by hand into the inbox. The sample (padded, mixed case,
    sentinels, three timestamp formats) loads every row, cleaned, none quarantined."""
    sample = Path(__file__).parents[1] / "test_data" / "samples" / "orders.csv"
    env.put("my_orders.csv", sample.read_bytes(), table="orders")
    report = env.ingest("orders")
    assert [e["status"] for e in report.registry] == ["loaded"]
    rows = env.rows("SELECT order_id, status, gender, created_at, delivered_at "
                    "FROM bronze.orders ORDER BY order_id")
    # Bronze trims and nulls sentinels; silver canonicalizes the case of categories.
    assert [(r["order_id"], r["status"], r["gender"]) for r in rows] == [
        (900000001, "complete", "F"), (900000002, "PROCESSING", "m"),
        (900000003, "Cancelled", "F")]
    assert rows[2]["created_at"] == dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    assert rows[0]["created_at"] == dt.datetime(2026, 11, 27, 9, 15, tzinfo=dt.UTC)
    assert rows[0]["delivered_at"] == dt.datetime(2026, 11, 28, 10, 30, tzinfo=dt.UTC)
    assert rows[1]["delivered_at"] is None
    assert env.rows("SELECT COUNT(*) AS n FROM ops.quarantine")[0]["n"] == 0
