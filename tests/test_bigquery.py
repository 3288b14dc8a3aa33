"""The BigQuery warehouse on real API emulators (bqemulator + fake-gcs-server), the gcp
settings, and the ``ecommerce emulators`` / ``ecommerce query`` commands.

Where the emulator cannot show a behaviour (it records labels and SQL but bills nothing,
enforces no partition filter), the tests assert the exact job configuration or SQL sent.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from resources import settings
from resources.bigquery import BigQueryWarehouse, bigquery_type, label_value, sql_literal
from resources.deployment import build_resources
from resources.warehouse import PartitionWrite
from tests.conftest import REPO
from tests.emulators import emulators, gcp_env  # noqa: F401  (fixtures)

DAY = dt.date(2026, 11, 20)
ECOMMERCE = Path(sys.executable).with_name("ecommerce")


def warehouse() -> BigQueryWarehouse:
    wh = build_resources()["warehouse"]
    assert isinstance(wh, BigQueryWarehouse)
    return wh


def bronze_rows(day: dt.date, ids: list[int], note: str) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "landing_date": [day] * len(ids),
                     "note": [note] * len(ids)})


def registry_rows(day: dt.date, run: str) -> pa.Table:
    return pa.table({"table_name": ["t"], "landing_date": [day], "run_id": [run],
                     "processed_at": pa.array([dt.datetime(2026, 11, 20, tzinfo=dt.UTC)],
                                              pa.timestamp("us", tz="UTC"))})


def writes(day: dt.date, data: pa.Table | list[Path], run: str) -> list[PartitionWrite]:
    return [PartitionWrite("bronze.t", {"landing_date": day}, data),
            PartitionWrite("ops.quarantine_t", {"table_name": "t", "landing_date": day},
                           pa.table({"table_name": ["t"], "landing_date": [day],
                                     "reason": [f"bad row of {run}"]})),
            PartitionWrite("ops.registry_t", {"table_name": "t", "landing_date": day,
                                              "run_id": run}, registry_rows(day, run))]


def state(wh: BigQueryWarehouse) -> dict[str, list[dict]]:
    return {t: wh.query_arrow(f"SELECT * FROM {t} ORDER BY 1, 2, 3").to_pylist()
            for t in ("bronze.t", "ops.quarantine_t", "ops.registry_t")}


# -- settings ----------------------------------------------------------------------------


GOOD = {"ECOMMERCE_GCP_PROJECT": "my-shop-prod", "ECOMMERCE_INBOX_URI": "gs://shop-inbox",
        "ECOMMERCE_STAGING_URI": "gs://shop-staging/bronze", "ECOMMERCE_ARCHIVE_URI":
        "gs://shop-archive", "ECOMMERCE_QUARANTINE_URI": "gs://shop-quarantine"}


@pytest.mark.parametrize(("name", "value", "message"), [
    ("ECOMMERCE_GCP_PROJECT", None, "ECOMMERCE_GCP_PROJECT is not set"),
    ("ECOMMERCE_GCP_PROJECT", "My Project", "ECOMMERCE_GCP_PROJECT='My Project' is not"),
    ("ECOMMERCE_STAGING_URI", None, "ECOMMERCE_STAGING_URI is not set"),
    ("ECOMMERCE_INBOX_URI", "/data/inbox", "ECOMMERCE_INBOX_URI='/data/inbox' is not a gs://"),
    ("ECOMMERCE_ARCHIVE_URI", "gs://UPPER_case", "ECOMMERCE_ARCHIVE_URI='gs://UPPER_case'"),
    ("ECOMMERCE_BQ_LOCATION", "us; DROP", "ECOMMERCE_BQ_LOCATION='us; DROP' is not"),
    ("ECOMMERCE_BQ_DATASET_PREFIX", "x-y", "ECOMMERCE_BQ_DATASET_PREFIX='x-y' is not"),
    ("ECOMMERCE_BQ_ENDPOINT", "localhost:9050", "ECOMMERCE_BQ_ENDPOINT='localhost:9050'"),
    ("ECOMMERCE_GCP_CREDENTIALS_FILE", "/nonexistent/key.json",
     "ECOMMERCE_GCP_CREDENTIALS_FILE='/nonexistent/key.json' is not a readable"),
])
def test_a_bad_gcp_setting_fails_at_load_with_one_sentence_naming_it(
        monkeypatch: pytest.MonkeyPatch, name: str, value: str | None, message: str) -> None:
    for key in ("ECOMMERCE_BQ_LOCATION", "ECOMMERCE_BQ_DATASET_PREFIX", "ECOMMERCE_BQ_ENDPOINT",
                "ECOMMERCE_GCP_CREDENTIALS_FILE", "STORAGE_EMULATOR_HOST"):
        monkeypatch.delenv(key, raising=False)
    for key, good in GOOD.items():
        monkeypatch.setenv(key, good)
    monkeypatch.setenv("ECOMMERCE_DEPLOYMENT", "gcp")
    if value is None:
        monkeypatch.delenv(name)
    else:
        monkeypatch.setenv(name, value)
    with pytest.raises(settings.SettingError) as failure:
        build_resources()
    text = str(failure.value)
    assert text.startswith(message)
    assert text.count(". ") == 0 and "\n" not in text  # one sentence


def test_good_gcp_settings_build_the_resource_set_without_contacting_anything(
        monkeypatch: pytest.MonkeyPatch) -> None:
    for key, good in GOOD.items():
        monkeypatch.setenv(key, good)
    monkeypatch.setenv("ECOMMERCE_BQ_DATASET_PREFIX", "prod_")
    monkeypatch.setenv("ECOMMERCE_BQ_LOCATION", "europe-west1")
    resources = build_resources("gcp")
    wh = resources["warehouse"]
    assert (wh.project, wh.location, wh.staging_uri) == (
        "my-shop-prod", "europe-west1", "gs://shop-staging/bronze")
    assert wh.table_ref("ops.file_registry") == "my-shop-prod.prod_ops.file_registry"
    staging = resources["staging_store"]
    assert (staging.bucket, staging.prefix, staging.project) == (
        "shop-staging", "bronze", "my-shop-prod")
    # With a prefix, the four medallion dataset qualifiers (quoted or not) are renamed;
    # aliases and columns that merely end in those names are not.
    assert wh.qualify("SELECT o.x FROM silver.orders AS o JOIN `ops`.`t` ON myops.y = 1") == (
        "SELECT o.x FROM prod_silver.orders AS o JOIN `prod_ops`.`t` ON myops.y = 1")


def test_literals_types_and_labels() -> None:
    assert sql_literal(DAY) == "DATE '2026-11-20'"
    assert sql_literal("it's\\") == "'it\\'s\\\\'"
    assert sql_literal("a\nb\x01") == "'a\\nb\\x01'"
    assert sql_literal(7) == "7"
    assert bigquery_type(pa.timestamp("us", tz="UTC")) == "TIMESTAMP"
    assert bigquery_type(pa.list_(pa.float32())) == "ARRAY<FLOAT64>"
    assert label_value("Bronze/Orders run 1.2") == "bronze_orders_run_1_2"
    assert len(label_value("x" * 100)) == 63


# -- the warehouse on the emulators ------------------------------------------------------


def test_replace_partitions_is_one_transaction_over_three_tables(
        gcp_env: dict[str, str], tmp_path: Path) -> None:
    wh = warehouse()
    # Two staged files of one partition that differ in an added column (schema evolution).
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(bronze_rows(DAY, [1, 2], "a"), first)
    pq.write_table(bronze_rows(DAY, [3], "b").append_column("extra", pa.array([1.5])), second)
    assert wh.replace_partitions(writes(DAY, [first, second], "run1")) == [3, 1, 1]
    other_day = DAY + dt.timedelta(days=1)
    assert wh.replace_partitions(writes(other_day, bronze_rows(other_day, [9], "c"),
                                        "run1"))[0] == 1
    before = state(wh)
    assert [r["extra"] for r in before["bronze.t"]] == [None, None, 1.5, None]

    # A job that fails mid-way: the DELETEs of all three tables have run inside the
    # transaction when the second write's data turns out to hold a row of another day.
    bad = writes(DAY, bronze_rows(DAY, [5], "new"), "run2")
    bad[1] = PartitionWrite(bad[1].table, bad[1].partition,
                            pa.table({"table_name": ["t"], "landing_date": [other_day],
                                      "reason": ["stray"]}))
    with pytest.raises(Exception, match="1 rows of the data are not in the partition"):
        wh.replace_partitions(bad)
    assert state(wh) == before  # every table as it was: the transaction rolled back
    # No stage table or staged object is left behind.
    tables = [t.table_id for t in wh.client.list_tables(f"{wh.project}.{wh.dataset('ops')}")]
    assert not [t for t in tables if t.startswith("_stage_")]
    from resources.object_store import store_for_uri
    assert not list(store_for_uri(wh.staging_uri).list("warehouse-loads/"))

    # A re-run replaces the partition (idempotent), other days untouched; the registry
    # keeps one partition per run.
    wh.replace_partitions(writes(DAY, bronze_rows(DAY, [5], "new"), "run2"))
    after = state(wh)
    assert [(r["id"], r["note"]) for r in after["bronze.t"]] == [(5, "new"), (9, "c")]
    assert [r["run_id"] for r in after["ops.registry_t"]] == ["run1", "run2", "run1"]


def test_files_already_in_the_staging_bucket_are_loaded_from_there(
        gcp_env: dict[str, str], tmp_path: Path) -> None:
    """Bronze stages its Parquet in the staging bucket; the warehouse loads those objects
    instead of uploading the same files again. The local file here differs from the
    uploaded object, so the rows loaded show which one BigQuery read."""
    from resources.object_store import store_for_uri

    wh = warehouse()
    uploaded, local = tmp_path / "uploaded.parquet", tmp_path / "local.parquet"
    pq.write_table(bronze_rows(DAY, [1, 2], "from the bucket"), uploaded)
    pq.write_table(bronze_rows(DAY, [7], "local copy"), local)
    staging = store_for_uri(wh.staging_uri)
    staging.upload_file("bronze/t/landing_date=2026-11-20/abc.parquet", uploaded)
    uri = staging.uri("bronze/t/landing_date=2026-11-20/abc.parquet")
    first = writes(DAY, [local], "run1")
    first[0] = PartitionWrite(first[0].table, first[0].partition, [local], (uri,))
    assert wh.replace_partitions(first)[0] == 2
    assert [r["note"] for r in state(wh)["bronze.t"]] == ["from the bucket"] * 2
    loads = [j for j in wh.jobs if j["kind"] == "load"]
    assert [uri] in [j["source_uris"] for j in loads]
    assert not list(staging.list("warehouse-loads/"))  # nothing uploaded, nothing left
    assert list(staging.list("bronze/t/"))  # the owner's object is kept


def test_jobs_send_partitioning_clustering_labels_and_one_transaction(
        gcp_env: dict[str, str]) -> None:
    wh = warehouse()
    wh.replace_partitions(writes(DAY, bronze_rows(DAY, [1], "a"), "r"))
    bronze = wh.client.get_table(wh.table_ref("bronze.t"))
    registry = wh.client.get_table(wh.table_ref("ops.registry_t"))
    assert bronze.time_partitioning.field == "landing_date"
    assert registry.time_partitioning.field == "landing_date"
    assert registry.clustering_fields == ["table_name", "run_id"]
    assert wh.client.get_dataset(f"{wh.project}.{wh.dataset('bronze')}").location == "US"
    (script,) = [j for j in wh.jobs if j["query"] and "BEGIN TRANSACTION" in j["query"]]
    sql = script["query"]
    prefix = gcp_env["ECOMMERCE_BQ_DATASET_PREFIX"]
    assert sql.startswith("BEGIN TRANSACTION;") and sql.endswith("COMMIT TRANSACTION;")
    assert f"DELETE FROM `{prefix}bronze`.`t` WHERE `landing_date` = DATE '2026-11-20';" in sql
    assert (f"DELETE FROM `{prefix}ops`.`registry_t` WHERE `table_name` = 't' AND "
            f"`landing_date` = DATE '2026-11-20' AND `run_id` = 'r';") in sql
    assert sql.count("INSERT INTO") == 3
    assert script["labels"] == {"ecommerce-deployment": "gcp", "ecommerce-asset": "bronze__t"}
    loads = [j for j in wh.jobs if j["kind"] == "load"]
    assert len(loads) == 3 and all(j["labels"]["ecommerce-deployment"] == "gcp" for j in loads)


def test_execute_script_keeps_ddl_out_of_the_transaction(gcp_env: dict[str, str]) -> None:
    wh = warehouse()
    wh.load_table("bronze.src", bronze_rows(DAY, [1, 2, 3], "x"))
    wh.execute_script([
        "CREATE OR REPLACE TABLE silver.s AS SELECT id FROM bronze.src",
        "CREATE TABLE IF NOT EXISTS ops.rejects_s (id INT64)",
        "DELETE FROM ops.rejects_s WHERE TRUE",
        "INSERT INTO ops.rejects_s (id) SELECT id FROM silver.s WHERE id > 1"])
    assert wh.query_arrow("SELECT COUNT(*) AS n FROM ops.rejects_s").to_pylist() == [{"n": 2}]
    sql = wh.jobs[-2]["query"]  # the script (the count came after it)
    assert sql.index("CREATE OR REPLACE") < sql.index("BEGIN TRANSACTION") < sql.index(
        "DELETE") < sql.index("COMMIT TRANSACTION")
    assert wh.jobs[-2]["labels"]["ecommerce-asset"] == "silver__s"
    # A failing DML statement rolls back the whole transaction.
    with pytest.raises(Exception, match="boom"):
        wh.execute_script(["DELETE FROM ops.rejects_s WHERE TRUE", "SELECT ERROR('boom')"])
    assert wh.query_arrow("SELECT COUNT(*) AS n FROM ops.rejects_s").to_pylist() == [{"n": 2}]
    with pytest.raises(ValueError, match="follows DML"):
        wh.execute_script(["DELETE FROM ops.rejects_s WHERE TRUE",
                           "CREATE OR REPLACE TABLE silver.s AS SELECT 1 AS id"])
    # Parameters, load modes, existence.
    assert wh.query_arrow("SELECT COUNT(*) AS n FROM bronze.src WHERE id >= ? AND note = ?",
                          [2, "x"]).to_pylist() == [{"n": 2}]
    assert wh.load_table("bronze.src", bronze_rows(DAY, [4], "y"), mode="append") == 4
    assert wh.load_table("bronze.src", bronze_rows(DAY, [7], "z")) == 1
    assert wh.table_exists("bronze.src") and not wh.table_exists("bronze.nope")


# -- the commands ------------------------------------------------------------------------


def test_ecommerce_query_on_the_gcp_and_the_local_warehouse(
        gcp_env: dict[str, str], tmp_path: Path) -> None:
    warehouse().load_table("gold.q", pa.table({"k": ["a", "b"], "v": [1.25, None]}))
    sql = "SELECT k, v FROM {gold}.q ORDER BY k"
    out = subprocess.run([str(ECOMMERCE), "query", sql, "--json"], env=dict(os.environ),
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"k": "a", "v": 1.25}, {"k": "b", "v": None}]
    table = subprocess.run([str(ECOMMERCE), "query", sql], env=dict(os.environ),
                           capture_output=True, text=True, timeout=120, cwd=REPO)
    assert table.stdout.splitlines() == ["k  v", "-  ----", "a  1.25", "b  NULL", "(2 rows)"]
    refused = subprocess.run([str(ECOMMERCE), "query", "DROP TABLE {gold}.q"],
                             env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "only one SELECT" in refused.stderr

    local = {**os.environ, "ECOMMERCE_DEPLOYMENT": "local",
             "ECOMMERCE_HOME": str(tmp_path / "home")}
    from resources.warehouse import DuckDBWarehouse
    DuckDBWarehouse(path=str(tmp_path / "home" / "warehouse.duckdb")).load_table(
        "gold.q", pa.table({"k": ["z"], "v": [2.5]}))
    out = subprocess.run([str(ECOMMERCE), "query", sql, "--json"], env=local,
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"k": "z", "v": 2.5}]


def test_ecommerce_emulators_writes_settings_and_stops_both_on_interrupt(tmp_path: Path) -> None:
    env_file = tmp_path / "emulators.env"
    proc = subprocess.Popen([str(ECOMMERCE), "emulators", "--env-file", str(env_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not env_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert env_file.exists(), proc.stdout.read() if proc.poll() is not None else "timeout"
        env = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        assert env["ECOMMERCE_DEPLOYMENT"] == "gcp"
        assert env["ECOMMERCE_INBOX_URI"] == "gs://inbox"
        bq = f"{env['ECOMMERCE_BQ_ENDPOINT']}/bigquery/v2/projects/{env['ECOMMERCE_GCP_PROJECT']}/datasets"
        gcs = f"{env['STORAGE_EMULATOR_HOST']}/storage/v1/b"
        assert json.loads(urllib.request.urlopen(bq, timeout=5).read())["kind"] == \
            "bigquery#datasetList"
        buckets = {b["name"] for b in json.loads(urllib.request.urlopen(gcs, timeout=5).read())
                   ["items"]}
        assert buckets == set(settings.BUCKETS)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert len(children) == 2  # fake-gcs-server and bqemulator
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "emulators stopped" in proc.stdout.read()
        for url in (bq, gcs):
            with pytest.raises(OSError):
                urllib.request.urlopen(url, timeout=2)
        for pid in children:  # both emulators are gone, not orphaned
            assert not Path(f"/proc/{pid}").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# -- sql/ddl/ ----------------------------------------------------------------------------


def test_sql_ddl_files_are_generated_from_the_schemas() -> None:
    from ecommerce_assets.ddl import DDL_ROOT, ddl_files

    expected = ddl_files()
    assert set(DDL_ROOT.rglob("*.sql")) == set(expected), "run python -m ecommerce_assets.ddl"
    for path, text in expected.items():
        assert path.read_text() == text, f"{path} is stale: run python -m ecommerce_assets.ddl"
    bronze = (DDL_ROOT / "bronze" / "orders.sql").read_text()
    assert "PARTITION BY landing_date\nCLUSTER BY order_id\n" in bronze
    assert "OPTIONS (require_partition_filter = FALSE)" in bronze


def test_every_ddl_file_creates_its_layout_on_bigquery(gcp_env: dict[str, str]) -> None:
    from ecommerce_assets.ddl import layouts

    wh = warehouse()
    for layout in layouts():
        wh.execute(Path(layout.path).read_text().replace(
            "{" + layout.dataset + "}", layout.dataset).split("\n", 1)[1].rstrip().rstrip(";"))
        table = wh.client.get_table(wh.table_ref(f"{layout.dataset}.{layout.name}"))
        assert [f.name for f in table.schema] == layout.schema.names
        assert (table.time_partitioning.field if table.time_partitioning else None) == \
            layout.partition_by, layout.path
        # The emulator records DDL partitioning but not DDL clustering (it does record
        # clustering set through tables.insert): assert the clause sent instead.
        if layout.cluster_by:
            assert f"CLUSTER BY {', '.join(layout.cluster_by)}" in wh.jobs[-1]["query"]
    # A refresh's CREATE OR REPLACE … AS gets the table's layout from its file.
    wh.execute_script(["CREATE OR REPLACE TABLE gold.daily_sales AS SELECT DATE '2026-11-20' "
                       "AS sale_date, 1 AS order_count"])
    prefix = gcp_env["ECOMMERCE_BQ_DATASET_PREFIX"]
    assert wh.jobs[-1]["query"].startswith(
        f"CREATE OR REPLACE TABLE {prefix}gold.daily_sales PARTITION BY sale_date AS SELECT")
    table = wh.client.get_table(wh.table_ref("gold.daily_sales"))
    assert table.time_partitioning.field == "sale_date" and table.num_rows == 1


def test_gemini_address_standardization_sends_ai_generate_text(gcp_env: dict[str, str]) -> None:
    """The emulator has no AI functions: the refresh of gold.users_enriched with the Gemini
    standardizer fails there, and the SQL it sent is what BigQuery would run: Gemini over the
    users whose address is not cached yet (gold/seam_cache.py), then the table from the
    cache."""
    from types import SimpleNamespace

    from ecommerce_assets.gold import refresh
    from ecommerce_assets.gold.spec import GOLD_TABLES
    from resources.addresses import GeminiAddressStandardizer

    wh = warehouse()
    gemini = GeminiAddressStandardizer(model="my-project.llm.gemini_2_5_flash")
    with pytest.raises(Exception):  # noqa: B017  (whatever the emulator answers)
        refresh.refresh_table(wh, GOLD_TABLES["users_enriched"], as_of=DAY,
                              resources=SimpleNamespace(address_standardizer=gemini))
    sent = wh.jobs[-1]["query"]
    prefix = gcp_env["ECOMMERCE_BQ_DATASET_PREFIX"]
    cache = f"{prefix}ops.gold_seam_standardized_addresses"
    assert sent.startswith(f"CREATE TABLE IF NOT EXISTS {cache} AS")
    assert "AI.GENERATE_TEXT" in sent and "`my-project.llm.gemini_2_5_flash`" in sent
    # Gemini reads the users to standardize, drawn from silver's by the cache.
    assert f"FROM {cache}_todo" in sent and f"FROM {prefix}silver.users AS s" in sent
    (rebuild,) = refresh.refresh_statements(GOLD_TABLES["users_enriched"], as_of=DAY,
                                            cached_seams=True)
    assert "FROM ops.gold_seam_standardized_addresses" in rebuild and "AI." not in rebuild


def test_string_partition_values_are_escaped_literals(gcp_env: dict[str, str]) -> None:
    """A partition value from outside (an object key) cannot break out of its literal."""
    wh = warehouse()
    keys = ["x' OR TRUE --", "line\nbreak\\", "plain"]
    for key in keys:
        wh.replace_partition("ops.keyed", "object_key", key,
                             pa.table({"object_key": [key], "n": [1]}))
    wh.replace_partition("ops.keyed", "object_key", keys[0],
                         pa.table({"object_key": [keys[0]] * 2, "n": [2, 3]}))
    rows = wh.query_arrow("SELECT object_key, n FROM ops.keyed").to_pylist()
    assert sorted((r["object_key"], r["n"]) for r in rows) == sorted(
        [(keys[1], 1), (keys[2], 1), (keys[0], 2), (keys[0], 3)])


def test_the_code_location_loads_with_the_gcp_deployment(gcp_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    (tmp_path / "dagster_home").mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    result = subprocess.run([str(Path(sys.executable).with_name("dagster")), "definitions",
                             "validate", "-w", "workspace.yaml"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    probe = subprocess.run(
        [sys.executable, "-c", "from ecommerce_assets.definitions import defs; "
         "print(type(defs.resources['warehouse']).__name__)"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert probe.stdout.strip() == "BigQueryWarehouse", probe.stderr


def test_bigquery_embedder_embeds_in_bigquery_with_ml_generate_embedding(
        gcp_env: dict[str, str]) -> None:
    """The emulator has no ML functions: the product_catalog refresh with the BigQuery
    embedder fails there, and the statement it sent is the one BigQuery would run: only
    the rows whose text hash or model is new go through ML.GENERATE_EMBEDDING, into the
    staging table, labelled with the asset."""
    from ecommerce_assets.embeddings.incremental import refresh_embeddings
    from ecommerce_assets.embeddings.spec import EMBEDDING_TABLES
    from resources.embedder import BigQueryMLEmbedder

    wh = warehouse()
    wh.load_table("silver.products", pa.table({
        "id": pa.array([1, 2], pa.int64()), "name": ["Levi's 505 Regular Fit", "Duck Jacket"],
        "category": ["Jeans", "Outerwear & Coats"], "brand": ["Levi's", "Carhartt"],
        "department": ["Men", "Men"], "retail_price": [59.5, 99.0]}))
    table = EMBEDDING_TABLES["product_catalog"]
    with pytest.raises(Exception) as info:
        refresh_embeddings(wh, table, BigQueryMLEmbedder(model="embeddings.text_embedding"))
    assert "ML.GENERATE_EMBEDDING" in str(info.value)  # refused: not supported by bqemulator
    sent = wh.jobs[-1]["query"]
    prefix = gcp_env["ECOMMERCE_BQ_DATASET_PREFIX"]
    assert sent.startswith(f"CREATE OR REPLACE TABLE {prefix}embeddings.product_catalog__"
                           "staging AS SELECT product_id,")
    assert f"ML.GENERATE_EMBEDDING(MODEL {prefix}embeddings.text_embedding," in sent
    assert "'bigquery:text-embedding-005' AS embedding_model" in sent
    assert "TO_HEX(SHA256(s.embedding_text)) AS text_hash" in sent
    assert f"FROM {prefix}silver.products" in sent
    assert wh.jobs[-1]["labels"]["ecommerce-deployment"] == "gcp"
