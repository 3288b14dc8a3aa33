"""The BigQuery warehouse: the :class:`~resources.warehouse.Warehouse` interface on the
official ``google-cloud-bigquery`` client.

* **Client factory.** An emulator endpoint gets anonymous credentials; otherwise a
  service-account key file (``ECOMMERCE_GCP_CREDENTIALS_FILE``) or Application Default
  Credentials. (dagster-gcp's ``BigQueryResource`` builds its client itself, with no
  endpoint or credentials object to pass: hence a factory of our own.)
* **Datasets** ``bronze``, ``silver``, ``gold``, ``ops``, each named ``{prefix}{name}``, are
  created on first use in the configured location. SQL is written with the plain names;
  with a prefix, dataset qualifiers of those four names are rewritten before a job is sent.
* **SQL runs as written** (BigQuery Standard SQL): no sqlglot on this path.
* **Bronze partition replace** is a multi-statement transaction, not a partition-decorator
  load: the three tables a landing day touches (the bronze partition, its
  ``ops.quarantine`` rows, this run's ``ops.file_registry`` rows) must change together, and
  a ``$YYYYMMDD`` load is atomic for one table only. Each write's Parquet goes to the
  staging bucket and is loaded by BigQuery from there into a private stage table
  (``ops._stage_<uuid>``, expiring after a day); one script then runs
  ``BEGIN TRANSACTION; DELETE …partition…; INSERT … FROM stage; … COMMIT TRANSACTION``.
  A crash before the COMMIT leaves every target as it was (BigQuery rolls the transaction
  back; at worst orphan stage tables remain, and expire); after it, all three are new.
* **Cost in the UI.** Every job carries labels (``ecommerce-asset``, ``ecommerce-run``,
  ``ecommerce-deployment``) and its job id, bytes processed and bytes billed are added to
  the running asset's materialization metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import PrivateAttr

from resources.keys import validate_identifier
from resources.settings import WAREHOUSE_SCHEMAS
from resources.warehouse import CURRENT_ASSET, ArrowLike, DataLike, PartitionWrite, Warehouse

STAGE_EXPIRY = dt.timedelta(days=1)
DDL_ROOT = Path(__file__).resolve().parents[1] / "sql" / "ddl"
_CREATE = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                     r"([\w.`]+)(\s+AS\b)?", re.IGNORECASE)
# Statements a BigQuery multi-statement transaction accepts (DDL on permanent tables is not).
_DML = re.compile(r"^\s*(INSERT|DELETE|UPDATE|MERGE|TRUNCATE|SELECT|WITH|CREATE\s+TEMP)",
                  re.IGNORECASE)
_IDEMPOTENT_DDL = re.compile(r"^\s*CREATE\s+(TABLE|SCHEMA)\s+IF\s+NOT\s+EXISTS", re.IGNORECASE)
_LABEL_BAD = re.compile(r"[^a-z0-9_-]")


def bigquery_type(t: pa.DataType) -> str:
    """The BigQuery column type of an Arrow type (for load schemas and DDL)."""
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"ARRAY<{bigquery_type(t.value_type)}>"
    checks = ((pa.types.is_boolean, "BOOL"), (pa.types.is_integer, "INT64"),
              (pa.types.is_floating, "FLOAT64"), (pa.types.is_date, "DATE"),
              (pa.types.is_decimal, "NUMERIC"), (pa.types.is_binary, "BYTES"),
              (pa.types.is_large_binary, "BYTES"))
    for test, name in checks:
        if test(t):
            return name
    if pa.types.is_timestamp(t):
        return "TIMESTAMP" if t.tz else "DATETIME"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "STRING"
    if pa.types.is_null(t):
        return "STRING"
    raise TypeError(f"no BigQuery type for Arrow type {t}")


def schema_fields(schema: pa.Schema) -> list[Any]:
    from google.cloud import bigquery

    fields = []
    for f in schema:
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            fields.append(bigquery.SchemaField(f.name, bigquery_type(f.type.value_type),
                                               mode="REPEATED"))
        else:
            fields.append(bigquery.SchemaField(f.name, bigquery_type(f.type), mode="NULLABLE"))
    return fields


def query_parameter(value: Any) -> Any:
    """A positional (``?``) BigQuery query parameter for a Python value."""
    from google.cloud import bigquery

    kinds = ((bool, "BOOL"), (int, "INT64"), (float, "FLOAT64"),
             (decimal.Decimal, "NUMERIC"), (dt.datetime, "TIMESTAMP"), (dt.date, "DATE"),
             (bytes, "BYTES"), (str, "STRING"))
    for kind, name in kinds:
        if isinstance(value, kind):
            if name == "TIMESTAMP" and value.tzinfo is None:
                name = "DATETIME"
            return bigquery.ScalarQueryParameter(None, name, value)
    if value is None:
        return bigquery.ScalarQueryParameter(None, "STRING", None)
    raise TypeError(f"no BigQuery parameter type for {type(value).__name__}")


def sql_literal(value: Any) -> str:
    """A BigQuery literal of a partition value (date, timestamp, integer or string)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat()}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        # Control characters as escapes: a quoted string holds none. \n \r \t by name (the
        # emulator knows only those), the rare others as \xhh.
        named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
        escaped = re.sub(r"[\x00-\x1f\x7f]",
                         lambda m: named.get(m[0], f"\\x{ord(m[0]):02x}"), escaped)
        return f"'{escaped}'"
    raise TypeError(f"no BigQuery literal for a partition value of type {type(value).__name__}")


def label_value(text: str) -> str:
    """A BigQuery label value: lowercase letters, digits, ``_`` and ``-``, at most 63."""
    return _LABEL_BAD.sub("_", str(text).lower())[:63]


def make_client(project: str, location: str, endpoint: str | None = None,
                credentials_file: str | None = None) -> Any:
    """The BigQuery client: emulator (anonymous), service-account file, or ADC."""
    from google.cloud import bigquery

    if endpoint:
        from google.auth.credentials import AnonymousCredentials

        return bigquery.Client(project=project, location=location,
                               credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": endpoint})
    if credentials_file:
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(credentials_file)
        return bigquery.Client(project=project, location=location, credentials=credentials)
    # Application Default Credentials (gcloud auth application-default login, the VM's or
    # pod's service account), as dagster-gcp's BigQueryResource would build it.
    return bigquery.Client(project=project, location=location)


class BigQueryWarehouse(Warehouse):
    """BigQuery datasets ``{dataset_prefix}bronze|silver|gold|ops`` of ``project``."""

    project: str
    location: str = "US"
    dataset_prefix: str = ""
    staging_uri: str  # gs://bucket[/prefix]: where loads are staged from
    endpoint: str | None = None  # a BigQuery API emulator (anonymous credentials)
    credentials_file: str | None = None
    deployment: str = "gcp"

    _client: Any = PrivateAttr(default=None)
    _datasets_ready: bool = PrivateAttr(default=False)
    _jobs: list = PrivateAttr(default_factory=list)  # jobs sent by this instance
    _labels: dict = PrivateAttr(default_factory=dict)

    @property
    def dialect(self) -> str:
        return "bigquery"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client(self.project, self.location, self.endpoint,
                                       self.credentials_file)
        return self._client

    @property
    def jobs(self) -> list[dict]:
        """Every job this instance ran: id, kind, bytes processed and billed, labels."""
        return list(self._jobs)

    # -- names -------------------------------------------------------------------------

    def dataset(self, name: str) -> str:
        return validate_identifier(f"{self.dataset_prefix}{name}")

    def qualify(self, sql: str) -> str:
        """``sql`` with the medallion dataset qualifiers (``ops.x``, ```ops`.`x```) renamed
        to their prefixed datasets; unchanged without a prefix."""
        if not self.dataset_prefix:
            return sql
        names = "|".join(WAREHOUSE_SCHEMAS)
        return re.sub(rf"(?<![\w.`])(`?)({names})(`?)\.",
                      lambda m: f"{m[1]}{self.dataset(m[2])}{m[3]}.", sql)

    def table_ref(self, table: str) -> str:
        """``project.dataset.table`` of a ``dataset.table`` name (the API's form)."""
        dataset, _, name = validate_identifier(table).rpartition(".")
        if not dataset:
            raise ValueError(f"{table!r} names no dataset (expected dataset.table)")
        return f"{self.project}.{self.dataset(dataset)}.{name}"

    # -- jobs ----------------------------------------------------------------------------

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run_id = context.run.run_id if context.run else "none"
        self._labels = {"ecommerce-run": label_value(run_id)}

    def job_labels(self, asset: str | None = None) -> dict[str, str]:
        """Labels of the next job: the asset (or op) running it, the run, the deployment."""
        labels = {"ecommerce-deployment": label_value(self.deployment), **self._labels}
        context = _current_context()
        if context is not None:
            labels["ecommerce-run"] = label_value(context.run.run_id)
            keys = ([CURRENT_ASSET.get()] if CURRENT_ASSET.get() else
                    sorted(context.selected_asset_keys) if context.has_assets_def else [])
            name = keys[0].to_user_string() if len(keys) == 1 else context.op_def.name
            labels["ecommerce-asset"] = label_value(name.replace("/", "__"))
        if asset and "ecommerce-asset" not in labels:
            labels["ecommerce-asset"] = label_value(asset.replace(".", "__"))
        return labels

    def _record(self, job: Any) -> None:
        context = _current_context()
        asset = CURRENT_ASSET.get()  # the asset of a multi-asset step that said which
        step = ((context.run.run_id, context.op_def.name, asset) if context is not None
                else None)
        self._jobs.append({
            "job_id": job.job_id, "kind": job.job_type,
            "bytes_processed": int(getattr(job, "total_bytes_processed", 0) or 0),
            "bytes_billed": int(getattr(job, "total_bytes_billed", 0) or 0),
            "labels": dict(job.labels or {}), "query": getattr(job, "query", None),
            "source_uris": list(getattr(job, "source_uris", None) or []),
            "step": step})
        if context is None or not context.has_assets_def:
            return
        # The step's jobs so far, as materialization metadata (each call overwrites the
        # previous totals), so a run's cost shows on the asset in the UI.
        mine = [j for j in self._jobs if j["step"] == step]
        metadata = {"bigquery/job_ids": dg.MetadataValue.json(
                        [j["job_id"] for j in mine if j["job_id"]]),
                    "bigquery/bytes_processed": sum(j["bytes_processed"] for j in mine),
                    "bigquery/bytes_billed": sum(j["bytes_billed"] for j in mine)}
        for key in [asset] if asset else context.selected_asset_keys:
            with contextlib.suppress(Exception):  # a report, never a failure of the step
                context.add_asset_metadata(metadata, asset_key=key)

    def query_config(self, params: Sequence[Any] | None = None, asset: str | None = None,
                     ) -> Any:
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(
            labels=self.job_labels(asset),
            query_parameters=[query_parameter(p) for p in params or ()])

    def _query(self, sql: str, params: Sequence[Any] | None = None,
               asset: str | None = None) -> Any:
        self.ensure_schemas()
        config, qualified = self.query_config(params, asset), self.qualify(sql)
        try:
            job = self.client.query(qualified, job_config=config)
        except Exception:
            # Refused before a job existed (a bad request): still logged, with what was sent.
            self._record(SimpleNamespace(job_id=None, job_type="query", labels=config.labels,
                                         query=qualified))
            raise
        try:
            job.result()
        finally:
            self._record(job)
        return job

    # -- the Warehouse interface ---------------------------------------------------------

    def ensure_schemas(self, schemas: Sequence[str] = WAREHOUSE_SCHEMAS) -> None:
        if self._datasets_ready and tuple(schemas) == WAREHOUSE_SCHEMAS:
            return
        from google.cloud import bigquery

        for name in schemas:
            dataset = bigquery.Dataset(f"{self.project}.{self.dataset(name)}")
            dataset.location = self.location
            self.client.create_dataset(dataset, exists_ok=True)
        if tuple(schemas) == WAREHOUSE_SCHEMAS:
            self._datasets_ready = True

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._query(with_layout(sql), params)

    def execute_script(self, statements: Sequence[str]) -> None:
        """One BigQuery script. DML runs in one multi-statement transaction; DDL on
        permanent tables is not allowed in one, so ``CREATE … IF NOT EXISTS`` and
        ``CREATE OR REPLACE`` (each atomic by itself) run first, in order: a script whose
        DDL follows its DML is refused rather than reordered."""
        ddl, dml = [], []
        for statement in statements:
            text = statement.strip().rstrip(";")
            if _DML.match(text):
                dml.append(text)
            elif dml:
                raise ValueError("BigQuery transactions cannot hold DDL on permanent tables, "
                                 f"and this DDL follows DML: {text[:80]!r}")
            else:
                ddl.append(text)
        script = [f"{with_layout(s)};" for s in ddl]
        if dml:
            script += ["BEGIN TRANSACTION;", *(f"{s};" for s in dml), "COMMIT TRANSACTION;"]
        if script:
            self._query("\n".join(script), asset=_target_of(statements))

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        job = self._query(sql, params)
        # The emulator serves no Storage Read API session for the client; REST pages do.
        table = job.to_arrow(create_bqstorage_client=self.endpoint is None)
        return table.combine_chunks() if table.num_rows else table

    def table_exists(self, table: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self.client.get_table(self.table_ref(table))
            return True
        except NotFound:
            return False

    def load_table(self, table: str, data: ArrowLike | str | os.PathLike, *,
                   mode: str = "replace") -> int:
        if mode not in ("replace", "append"):
            raise ValueError("mode must be 'replace' or 'append'")
        self.ensure_schemas()
        with self._staged(data) as groups:
            if len(groups) > 1:
                raise ValueError("load_table takes files of one schema")
            ((uris, schema),) = groups
            if mode == "append" and self.table_exists(table):
                self._add_missing_columns(table, schema)
            stage = self._load_stage(uris, schema)
            try:
                if mode == "append" and self.table_exists(table):
                    cols = ", ".join(self.quote(n) for n in schema.names)
                    self._query(f"INSERT INTO {self.quote(table)} ({cols}) SELECT {cols} "
                                f"FROM {self.quote(stage)}", asset=table)
                else:  # one atomic statement; the new schema and sql/ddl's layout
                    self._query(with_layout(f"CREATE OR REPLACE TABLE {self.quote(table)} "
                                            f"AS SELECT * FROM {self.quote(stage)}"),
                                asset=table)
            finally:
                self._drop(stage)
        return self._count(table)

    def replace_partitions(self, writes: Sequence[PartitionWrite]) -> list[int]:
        self.ensure_schemas()
        stages: list[str] = []
        try:
            with contextlib.ExitStack() as stack:
                statements = []
                for w in writes:
                    _check_partition(w)
                    groups = stack.enter_context(self._staged(w.data, w.staged_uris))
                    self._ensure_table(w, pa.unify_schemas([g[1] for g in groups],
                                                           promote_options="permissive"))
                    loaded = [(self._load_stage(uris, schema), schema)
                              for uris, schema in groups]
                    stages += [stage for stage, _ in loaded]
                    statements += self._replace_statements(w, loaded)
                # One transaction: every partition of every table, or none of them.
                self._query("\n".join(["BEGIN TRANSACTION;", *statements,
                                       "COMMIT TRANSACTION;"]),
                            asset=writes[0].table if writes else None)
        finally:
            for stage in stages:
                self._drop(stage)
        return [self._count(w.table, w.partition) for w in writes]

    # -- helpers -------------------------------------------------------------------------

    def _replace_statements(self, w: PartitionWrite, stages: list[tuple[str, pa.Schema]],
                            ) -> list[str]:
        # Literals, not parameters: BigQuery takes no positional parameters in a script.
        target = self.quote(w.table)
        where = " AND ".join(f"{self.quote(c)} = {sql_literal(v)}"
                             for c, v in w.partition.items())
        # A row of the data outside the partition fails the whole transaction: the check
        # runs inside it, so nothing is half written.
        outside = " OR ".join(f"{self.quote(c)} IS DISTINCT FROM {sql_literal(v)}"
                              for c, v in w.partition.items())
        statements = [f"DELETE FROM {target} WHERE {where};"]
        for stage, schema in stages:
            cols = ", ".join(self.quote(n) for n in schema.names)
            statements += [
                f"SELECT IF(COUNT(*) = 0, 0, ERROR(FORMAT('%d rows of the data are not in "
                f"the partition of {w.table}', COUNT(*)))) FROM {self.quote(stage)} "
                f"WHERE {outside};",
                f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {self.quote(stage)};"]
        return statements

    @contextlib.contextmanager
    def _staged(self, data: DataLike, uploaded: Sequence[str] = (),
                ) -> Iterator[list[tuple[list[str], pa.Schema]]]:
        """``data`` as Parquet objects in the staging bucket (removed afterwards), grouped
        by schema: a load fills every column of its table, so files of one partition that
        differ in their added columns are loaded into one stage table per schema. Local
        files are uploaded as they are; Arrow is written once. ``uploaded``: the same files
        already in GCS (bronze's staged Parquet): loaded from there, neither uploaded
        again nor removed (their owner keeps them)."""
        from resources.object_store import store_for_uri

        store = store_for_uri(self.staging_uri)
        prefix = f"warehouse-loads/{uuid.uuid4().hex}"
        keys: list[str] = []
        with tempfile.TemporaryDirectory(prefix="bq-stage-") as tmp:
            if isinstance(data, pa.RecordBatchReader):
                data = data.read_all()
            if isinstance(data, pa.Table):
                path = Path(tmp) / "data.parquet"
                pq.write_table(data, path)
                files = [(path, data.schema)]
            else:
                paths = [Path(data)] if isinstance(data, str | os.PathLike) else [
                    Path(p) for p in data]
                if not paths:
                    raise ValueError("no Parquet files to load (pass an empty Arrow table "
                                     "instead)")
                files = [(p, pq.read_schema(p).remove_metadata()) for p in paths]
                if uploaded and len(uploaded) == len(files) and all(
                        u.startswith("gs://") for u in uploaded):
                    groups_of: dict[pa.Schema, list[str]] = {}
                    for uri, (_, schema) in zip(uploaded, files, strict=True):
                        groups_of.setdefault(schema, []).append(uri)
                    yield [(uris, schema) for schema, uris in groups_of.items()]
                    return
            try:
                base = self.staging_uri.rstrip("/")
                groups: dict[pa.Schema, list[str]] = {}
                for i, (path, schema) in enumerate(files):
                    key = f"{prefix}/{i:05d}.parquet"
                    store.upload_file(key, path)
                    keys.append(key)
                    groups.setdefault(schema, []).append(f"{base}/{key}")
                yield [(uris, schema) for schema, uris in groups.items()]
            finally:
                for key in keys:
                    with contextlib.suppress(Exception):
                        store.delete(key)

    def _run_load(self, uris: list[str], destination: str, config: Any) -> None:
        job = self.client.load_table_from_uri(uris, destination, job_config=config)
        try:
            job.result()
        finally:
            self._record(job)

    def _load_stage(self, uris: list[str], schema: pa.Schema) -> str:
        """A new private table in ``ops`` loaded from ``uris`` (files missing a column of
        the unified schema read NULL there); expires after a day if never dropped."""
        from google.cloud import bigquery

        stage = f"ops._stage_{uuid.uuid4().hex}"
        table = bigquery.Table(self.table_ref(stage), schema=schema_fields(schema))
        table.expires = dt.datetime.now(dt.UTC) + STAGE_EXPIRY
        self.client.create_table(table)
        config = bigquery.LoadJobConfig(
            source_format="PARQUET", schema=schema_fields(schema),
            write_disposition="WRITE_APPEND", labels=self.job_labels(stage))
        self._run_load(uris, self.table_ref(stage), config)
        return stage

    def _drop(self, table: str) -> None:
        with contextlib.suppress(Exception):  # an orphan stage table expires by itself
            self.client.delete_table(self.table_ref(table), not_found_ok=True)

    def _ensure_table(self, w: PartitionWrite, schema: pa.Schema) -> None:
        """Create ``w.table`` if missing, from its ``sql/ddl/`` file, else natively
        partitioned by its DATE partition column and clustered by the other partition
        columns; add the columns of the data it lacks."""
        from google.cloud import bigquery

        if self.table_exists(w.table):
            self._add_missing_columns(w.table, schema)
            return
        ddl = table_ddl(w.table)
        if ddl:  # sql/ddl/ holds its layout: create it from there, then add what it lacks
            self._query(ddl, asset=w.table)
            self._add_missing_columns(w.table, schema)
            return
        table = bigquery.Table(self.table_ref(w.table), schema=schema_fields(schema))
        dates = [c for c in w.partition if isinstance(w.partition[c], dt.date)
                 and not isinstance(w.partition[c], dt.datetime)]
        if dates:
            table.time_partitioning = bigquery.TimePartitioning(field=dates[0])
        cluster = [c for c in w.partition if c not in dates[:1]][:4]
        if cluster:
            table.clustering_fields = cluster
        self.client.create_table(table, exists_ok=True)

    def _add_missing_columns(self, table: str, schema: pa.Schema) -> list[str]:
        current = self.client.get_table(self.table_ref(table))
        have = {f.name for f in current.schema}
        added = [f for f in schema_fields(schema) if f.name not in have]
        if added:  # additive and nullable: harmless outside the transaction
            current.schema = [*current.schema, *added]
            self.client.update_table(current, ["schema"])
        return [f.name for f in added]

    def _count(self, table: str, partition: dict[str, Any] | None = None) -> int:
        where = " AND ".join(f"{self.quote(c)} = ?" for c in partition or {}) or "TRUE"
        rows = self.query_arrow(f"SELECT COUNT(*) AS n FROM {self.quote(table)} WHERE {where}",
                                list((partition or {}).values())).to_pylist()
        return int(rows[0]["n"])


def table_ddl(table: str) -> str | None:
    """The ``CREATE TABLE IF NOT EXISTS`` of ``dataset.table`` from ``sql/ddl/`` (plain
    dataset names, no trailing ';'), or None."""
    dataset, _, name = validate_identifier(table).replace("`", "").rpartition(".")
    path = DDL_ROOT / dataset / f"{name}.sql"
    if not dataset or not path.is_file():
        return None
    text = "\n".join(line for line in path.read_text().splitlines()
                     if not line.lstrip().startswith("--"))
    for schema in WAREHOUSE_SCHEMAS:
        text = text.replace(f"{{{schema}}}", schema)
    return text.strip().rstrip(";").strip()


def table_layout(table: str) -> str:
    """The ``PARTITION BY … CLUSTER BY … OPTIONS (…)`` tail of ``table``'s DDL, or ''."""
    ddl = table_ddl(table)
    if not ddl:
        return ""
    tail = ddl[ddl.rindex(")\n") + 1:] if ")\n" in ddl else ""
    return " ".join(tail.split())


def with_layout(statement: str) -> str:
    """A ``CREATE [OR REPLACE] TABLE t AS …`` or ``CREATE TABLE IF NOT EXISTS t (…)`` of a
    table with a DDL file, given that file's partitioning and clustering."""
    m = _CREATE.match(statement)
    if not m:
        return statement
    layout = table_layout(m[1].replace("`", ""))
    if not layout:
        return statement
    if m[2]:  # CTAS whose name is followed by AS: it states no layout of its own
        return f"{statement[:m.start(2)]} {layout}{statement[m.start(2):]}"
    body = statement.rstrip().rstrip(";").rstrip()
    if not body.endswith(")"):
        return statement  # it states its own layout (or is no column-list form)
    return f"{body} {layout}"


def _check_partition(w: PartitionWrite) -> None:
    if not w.partition or any(v is None for v in w.partition.values()):
        raise ValueError("a partition needs at least one column; values must not be None")


def _target_of(statements: Sequence[str]) -> str | None:
    """The table a refresh script writes (its first CREATE … TABLE), for the job label."""
    for statement in statements:
        m = re.match(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"
                     r"([\w.`]+)", statement, re.IGNORECASE)
        if m:
            return m[1].replace("`", "")
    return None


def _current_context() -> Any:
    """The Dagster asset context running this code, if any (None outside a step)."""
    try:
        return dg.AssetExecutionContext.get()
    except Exception:
        return None
