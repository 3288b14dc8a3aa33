"""Deployment settings, read from environment variables (never from code).

``ECOMMERCE_DEPLOYMENT`` picks the resource set: ``local`` (default; DuckDB + folders under
``ECOMMERCE_HOME``) or ``gcp`` (BigQuery + GCS).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

DEPLOYMENTS = ("local", "gcp")
BUCKETS = ("inbox", "staging", "archive", "quarantine")
WAREHOUSE_SCHEMAS = ("bronze", "silver", "gold", "ops", "embeddings", "marts")


def deployment() -> str:
    value = os.environ.get("ECOMMERCE_DEPLOYMENT", "local").strip().lower() or "local"
    if value not in DEPLOYMENTS:
        raise ValueError(
            f"ECOMMERCE_DEPLOYMENT={value!r} is not one of {', '.join(DEPLOYMENTS)}")
    return value


def warehouse_kind() -> str:
    """The warehouse's kind tag on assets in the UI: ``duckdb`` (local) or ``bigquery``."""
    return "duckdb" if deployment() == "local" else "bigquery"


def ecommerce_home() -> Path:
    """Root of local state: the DuckDB file, bucket folders, generator state, reports."""
    return Path(os.environ.get("ECOMMERCE_HOME", ".ecommerce")).expanduser().absolute()


def warehouse_path() -> Path:
    return ecommerce_home() / "warehouse.duckdb"


def bucket_path(bucket: str) -> Path:
    if bucket not in BUCKETS:
        raise ValueError(f"unknown bucket {bucket!r}; expected one of {BUCKETS}")
    return ecommerce_home() / "buckets" / bucket


def bucket_uri(bucket: str) -> str:
    """Where a bucket lives: ``ECOMMERCE_<BUCKET>_URI`` (a folder or ``gs://bucket[/prefix]``),
    by default a folder under ``ECOMMERCE_HOME``."""
    path = bucket_path(bucket)  # validates the bucket name
    return os.environ.get(f"ECOMMERCE_{bucket.upper()}_URI", "").strip() or str(path)


def reports_dir() -> Path:
    """Where rendered reports (the cohort retention heatmap) are written."""
    return ecommerce_home() / "reports"


def as_of_override() -> dt.date | None:
    """``ECOMMERCE_AS_OF`` (YYYY-MM-DD): the reporting date of gold runs, when set."""
    raw = os.environ.get("ECOMMERCE_AS_OF", "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"ECOMMERCE_AS_OF={raw!r} is not a YYYY-MM-DD date") from None


def as_of() -> dt.date:
    """The reporting date gold measures recency against: ``ECOMMERCE_AS_OF``, else today (UTC)."""
    return as_of_override() or dt.datetime.now(dt.UTC).date()


def generator_state_dir() -> Path:
    return ecommerce_home() / "generator"


def quarantine_warn_rate() -> float:
    """Share of rows read that may be quarantined before the bronze check warns."""
    return float(os.environ.get("ECOMMERCE_QUARANTINE_WARN_RATE", "0.01"))


def _int_env(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ValueError(f"{name}={value} must be at least {minimum}")
    return value


def sensor_interval_s() -> int:
    """Seconds between ticks of the inbox and automation sensors."""
    return _int_env("ECOMMERCE_SENSOR_INTERVAL_S", 15, 1)


def sensor_lookback_days() -> int:
    """Landing days before the newest one whose inbox folders every tick lists again."""
    return _int_env("ECOMMERCE_SENSOR_LOOKBACK_DAYS", 2, 0)


def sensor_page_size() -> int:
    """Objects per listing page (GCS returns at most 1,000 per page)."""
    return _int_env("ECOMMERCE_SENSOR_PAGE_SIZE", 1000, 1)


def sensor_discovery_s() -> int:
    """Seconds between the inbox sensor's discovery listings (unknown folders, undated
    objects, late first landings on older days)."""
    return _int_env("ECOMMERCE_SENSOR_DISCOVERY_S", 300, 0)


def sensor_horizon_days() -> int:
    """Days back (from today, UTC) whose ingested folders the discovery pass lists object by
    object, so that a file re-landed on an ingested day is ingested again."""
    return _int_env("ECOMMERCE_SENSOR_HORIZON_DAYS", 30, 0)


def sensor_max_future_days() -> int:
    """Days after today (UTC) a landing folder may be dated and wait for its partition;
    later dates are rejected as mistyped."""
    return _int_env("ECOMMERCE_SENSOR_MAX_FUTURE_DAYS", 1, 0)


def sensor_retry_base_s() -> int:
    """First wait before a landing day whose run did not ingest its objects is requested
    again; it doubles with every attempt (at most an hour)."""
    return _int_env("ECOMMERCE_SENSOR_RETRY_BASE_S", 30, 0)


def inbox_settle_s() -> float:
    """Seconds a local inbox file must stay unchanged before it is taken (a plain copy into
    the folder is visible while it is being written; GCS objects appear complete)."""
    name = "ECOMMERCE_INBOX_SETTLE_S"
    raw = os.environ.get(name, "").strip()
    try:
        value = float(raw) if raw else 5.0
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{name}={raw!r} must be a number of seconds, 0 or more")
    return value


def max_decompressed_bytes() -> int:
    """The cap on one gzip object's decompressed size (a bomb is rejected at it)."""
    return _int_env("ECOMMERCE_MAX_DECOMPRESSED_BYTES", 20 << 30, 1)


# -- Freshness and alerts ----------------------------------------------------------------

def bronze_due_hour() -> int:
    """Hour of the day (UTC, 0-23) by which a landing day's bronze data is expected: bronze is
    stale from then on until it materializes again."""
    hour = _int_env("ECOMMERCE_BRONZE_DUE_HOUR", 6, 0)
    if hour > 23:
        raise ValueError(f"ECOMMERCE_BRONZE_DUE_HOUR={hour} must be an hour of the day, 0-23")
    return hour


def refresh_lag_minutes() -> int:
    """Minutes after bronze is due by which silver, gold and embeddings are expected to have
    refreshed from it."""
    minutes = _int_env("ECOMMERCE_REFRESH_LAG_MINUTES", 30, 1)
    if minutes >= 24 * 60:
        raise ValueError(f"ECOMMERCE_REFRESH_LAG_MINUTES={minutes} must be less than a day")
    return minutes


def alert_webhook_url() -> str | None:
    """``ECOMMERCE_ALERT_WEBHOOK_URL``: where the alert sensors post (a Slack incoming webhook
    or any endpoint taking JSON); None when unset (the alert sensors skip)."""
    name = "ECOMMERCE_ALERT_WEBHOOK_URL"
    raw = _env(name)
    if not raw:
        return None
    # http(s) only: urllib would also open file:// and ftp:// URLs.
    if not re.match(r"^https?://[A-Za-z0-9.\-\[\]:@]+(/\S*)?$", raw):
        raise SettingError(f"{name} is not an http:// or https:// URL")
    return raw


# -- The gcp deployment ------------------------------------------------------------------
# Each setting is read and checked at definitions load: a missing or malformed one fails
# with one sentence naming its variable, before any run starts.

_PROJECT_ID = re.compile(r"^(?:[a-z][a-z0-9.-]*[a-z0-9]:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_LOCATION = re.compile(r"^[A-Za-z]+(?:-[A-Za-z]+[0-9]*)?$")
_DATASET_PREFIX = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


class SettingError(ValueError):
    """A deployment setting is missing or malformed (the message names the variable)."""


@dataclass(frozen=True)
class GcpSettings:
    project: str
    location: str
    dataset_prefix: str
    bucket_uris: dict[str, str]
    bigquery_endpoint: str | None
    credentials_file: str | None


def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def _endpoint(name: str) -> str | None:
    raw = _env(name)
    if raw and not re.match(r"^https?://[A-Za-z0-9.\-\[\]:]+(/.*)?$", raw):
        raise SettingError(f"{name}={raw!r} is not an http(s):// URL of an API endpoint")
    return raw or None


def gcp_bucket_uri(bucket: str) -> str:
    """``ECOMMERCE_<BUCKET>_URI`` of the gcp deployment: a ``gs://bucket[/prefix]`` URI."""
    name = f"ECOMMERCE_{bucket.upper()}_URI"
    raw = _env(name)
    if not raw:
        raise SettingError(f"{name} is not set: the gcp deployment needs a gs://bucket[/prefix] "
                           f"URI for the {bucket} bucket")
    bucket_name = raw[len("gs://"):].split("/", 1)[0] if raw.startswith("gs://") else ""
    if not _BUCKET.match(bucket_name):
        raise SettingError(f"{name}={raw!r} is not a gs://bucket[/prefix] URI with a valid "
                           "bucket name")
    return raw.rstrip("/")


def gcp_settings() -> GcpSettings:
    """The gcp deployment's settings, validated."""
    project = _env("ECOMMERCE_GCP_PROJECT")
    if not project:
        raise SettingError("ECOMMERCE_GCP_PROJECT is not set: the gcp deployment needs the "
                           "Google Cloud project id that holds the BigQuery datasets")
    if not _PROJECT_ID.match(project):
        raise SettingError(f"ECOMMERCE_GCP_PROJECT={project!r} is not a Google Cloud project "
                           "id (6-30 lowercase letters, digits and hyphens)")
    location = _env("ECOMMERCE_BQ_LOCATION") or "US"
    if not _LOCATION.match(location):
        raise SettingError(f"ECOMMERCE_BQ_LOCATION={location!r} is not a BigQuery location "
                           "such as US, EU or europe-west1")
    prefix = _env("ECOMMERCE_BQ_DATASET_PREFIX")
    if prefix and not _DATASET_PREFIX.match(prefix):
        raise SettingError(f"ECOMMERCE_BQ_DATASET_PREFIX={prefix!r} is not a dataset name "
                           "prefix (letters, digits and underscores, not starting with a digit)")
    credentials = _env("ECOMMERCE_GCP_CREDENTIALS_FILE") or None
    if credentials and not Path(credentials).expanduser().is_file():
        raise SettingError(f"ECOMMERCE_GCP_CREDENTIALS_FILE={credentials!r} is not a readable "
                           "service-account key file (unset it to use Application Default "
                           "Credentials)")
    _endpoint("STORAGE_EMULATOR_HOST")
    return GcpSettings(project=project, location=location, dataset_prefix=prefix,
                       bucket_uris={b: gcp_bucket_uri(b) for b in BUCKETS},
                       bigquery_endpoint=_endpoint("ECOMMERCE_BQ_ENDPOINT"),
                       credentials_file=str(Path(credentials).expanduser()) if credentials
                       else None)
