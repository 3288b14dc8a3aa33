"""Alerts: failed runs, failed blocking asset checks and stale assets post to a webhook.

Each alert is one JSON POST to ``ECOMMERCE_ALERT_WEBHOOK_URL``: ``{"text": ...}`` (what a Slack
incoming webhook shows) plus an ``alert`` object with the structured fields (kind, asset, run,
...) for any other receiver. Two sensors send them, both on by default:

- ``alert_on_run_failure``: Dagster's run-failure sensor, once per failed run.
- ``alert_on_checks_and_freshness``: reads the event log after its cursor: the latest failed
  evaluation of each blocking asset check, and each asset whose freshness state turned FAIL
  (recorded by the freshness daemon, see ``ecommerce_assets/freshness.py``).

With no webhook set, both skip with a message saying so. The second one starts at the end of
the event log when it first runs and while no webhook is set, so a newly set webhook does not
receive the history. A post that fails is logged, never raised; that sensor keeps its cursor
before it, so the next tick sends it again.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from resources import settings

CHECK_INTERVAL_S = 30
POST_TIMEOUT_S = 10
PAGE = 100  # freshness changes read per tick
RUN_FAILURE = "run_failure"
CHECK_FAILURE = "asset_check_failure"
STALE_ASSET = "asset_stale"


def webhook_or_skip() -> tuple[str | None, dg.SkipReason | None]:
    """The webhook URL, or why none is used (unset, or not an http(s) URL)."""
    try:
        url = settings.alert_webhook_url()
    except settings.SettingError as error:
        return None, dg.SkipReason(f"{error}: no alert is sent")
    if url is None:
        return None, dg.SkipReason("ECOMMERCE_ALERT_WEBHOOK_URL is not set: no alert is sent")
    return url, None


def alert(kind: str, text: str, **fields: Any) -> dict[str, Any]:
    """A Slack-compatible message: ``text`` for people, ``alert`` for programs."""
    return {"text": text, "alert": {"kind": kind, **fields}}


def post_alert(url: str, message: Mapping[str, Any], timeout: float = POST_TIMEOUT_S
               ) -> str | None:
    """POST ``message`` as JSON; None when the webhook accepted it (2xx), else why not."""
    request = urllib.request.Request(
        url, data=json.dumps(message, default=str).encode(), method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "ecommerce-alerts"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as error:
        return f"the webhook answered HTTP {error.code} {error.reason}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"the webhook could not be reached ({reason})"
    return None


# -- Failed runs -------------------------------------------------------------------------

def run_assets(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[str]:
    """The assets the run was to materialize (a run of every asset has no selection)."""
    planned = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
    keys = {record.event_log_entry.dagster_event.asset_key for record in planned
            if record.event_log_entry.dagster_event is not None}
    return sorted(key.to_user_string() for key in keys | set(run.asset_selection or ())
                  if key is not None)


def run_failure_message(run: dg.DagsterRun, assets: list[str], error: str | None
                        ) -> dict[str, Any]:
    # Asset runs have internal job names (__ASSET_JOB): their assets say more.
    what = "" if run.job_name.startswith("__") else f" of {run.job_name}"
    partition = run.tags.get("dagster/partition")
    scope = ", ".join(assets) + (f" partition {partition}" if partition else "")
    return alert(RUN_FAILURE, f"Run {run.run_id[:8]}{what}" + (f" ({scope})" if scope else "")
                 + f" failed: {error or 'no message'}",
                 run_id=run.run_id, job_name=run.job_name, assets=assets, partition=partition,
                 error=error)


def root_error(error: Any) -> str:
    """The innermost cause of a step's error (the user code's exception), one line."""
    while error.cause is not None:
        error = error.cause
    return " ".join(error.message.split())


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    minimum_interval_seconds=CHECK_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts each failed run to ECOMMERCE_ALERT_WEBHOOK_URL (JSON, Slack-compatible); "
                "skips while it is not set.",
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> dg.SkipReason | None:
    url, skip = webhook_or_skip()
    if skip is not None:
        return skip
    run = context.dagster_run
    steps = context.get_step_failure_events()
    # The step's error says what broke; the run's failure message only says that steps failed.
    errors = [root_error(e.step_failure_data.error) for e in steps
              if e.step_failure_data.error is not None]
    message = run_failure_message(run, run_assets(context.instance, run),
                                  "; ".join(errors) or context.failure_event.message)
    if error := post_alert(url, message):
        context.log.error(f"alert for failed run {run.run_id} not sent: {error}")
        return dg.SkipReason(f"alert for failed run {run.run_id} not sent: {error}")
    context.log.info(f"alert sent for failed run {run.run_id}")
    return None


# -- Failed blocking checks and stale assets ----------------------------------------------

def blocking_checks(repository: dg.RepositoryDefinition) -> list[dg.AssetCheckKey]:
    graph = repository.asset_graph
    return sorted((key for key in graph.asset_check_keys if graph.get_check_spec(key).blocking),
                  key=lambda key: key.to_user_string())


def failed_checks(instance: dg.DagsterInstance, keys: list[dg.AssetCheckKey],
                  alerted: Mapping[str, int]) -> list[tuple[str, int, dict[str, Any]]]:
    """(check, execution id, message) of each check whose latest execution failed and was not
    alerted yet (``alerted``: check -> execution id last alerted). Execution ids are given when
    a run plans its checks, not when they finish, so each check keeps its own."""
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    found = []
    for key, record in sorted(latest.items(), key=lambda item: item[1].id):
        name = key.to_user_string()
        if record.status != AssetCheckExecutionRecordStatus.FAILED or \
                record.id <= alerted.get(name, 0):
            continue
        evaluation = record.event.asset_check_evaluation if record.event else None
        description = evaluation.description if evaluation else None
        metadata = {k: v.value for k, v in (evaluation.metadata if evaluation else {}).items()}
        found.append((name, record.id, alert(
            CHECK_FAILURE,
            f"Blocking check {key.name} on {key.asset_key.to_user_string()} failed"
            + (f": {description}" if description else "") + " (downstream assets wait)",
            asset_key=key.asset_key.to_user_string(), check_name=key.name,
            run_id=record.run_id, description=description, metadata=metadata)))
    return found


def freshness_changes(instance: dg.DagsterInstance, after: int | None, limit: int
                      ) -> list[dg.EventLogRecord]:
    """FRESHNESS_STATE_CHANGE records after storage id ``after`` (the newest one when None)."""
    records_filter = dg.EventRecordsFilter(event_type=dg.DagsterEventType.FRESHNESS_STATE_CHANGE,
                                           after_cursor=after)
    return list(instance.event_log_storage.get_event_records(
        records_filter, limit=1 if after is None else limit, ascending=after is not None))


def stale_message(record: dg.EventLogRecord) -> dict[str, Any] | None:
    change = record.event_log_entry.dagster_event.asset_freshness_state_change_data
    if change.new_state != FreshnessState.FAIL:
        return None
    asset = change.key.to_user_string()
    return alert(STALE_ASSET, f"{asset} is stale: it missed its freshness policy "
                              f"(was {change.previous_state.value})",
                 asset_key=asset, previous_state=change.previous_state.value,
                 new_state=change.new_state.value, since=change.state_change_timestamp)


def _cursor(raw: str | None) -> dict[str, Any] | None:
    return json.loads(raw) if raw else None


def _end_of_log(instance: dg.DagsterInstance, checks: list[dg.AssetCheckKey]) -> dict[str, Any]:
    """A cursor past everything already recorded: failures present now are not alerted."""
    newest_change = freshness_changes(instance, None, 1)
    return {"checks": {name: execution_id for name, execution_id, _
                       in failed_checks(instance, checks, {})},
            "freshness": newest_change[0].storage_id if newest_change else 0}


@dg.sensor(
    name="alert_on_checks_and_freshness",
    minimum_interval_seconds=CHECK_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts each failed blocking asset check and each asset that turns stale (its "
                "freshness policy failed) to ECOMMERCE_ALERT_WEBHOOK_URL (JSON, "
                "Slack-compatible); skips while it is not set.",
)
def check_and_freshness_alerts(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    instance = context.instance
    checks = blocking_checks(context.repository_def) if context.repository_def else []
    cursor = _cursor(context.cursor)
    url, skip = webhook_or_skip()
    if skip is not None or cursor is None:
        context.update_cursor(json.dumps(_end_of_log(instance, checks)))
        return skip or dg.SkipReason("started at the end of the event log: alerts are sent "
                                     "for what happens from now on")
    sent = 0
    for name, execution_id, message in failed_checks(instance, checks, cursor["checks"]):
        if error := post_alert(url, message):
            return _not_sent(context, cursor, sent, error)
        cursor["checks"][name] = execution_id
        sent += 1
    for record in freshness_changes(instance, cursor["freshness"], PAGE):
        if (message := stale_message(record)) is not None:
            if error := post_alert(url, message):
                return _not_sent(context, cursor, sent, error)
            sent += 1
        cursor["freshness"] = record.storage_id
    context.update_cursor(json.dumps(cursor))
    return dg.SkipReason(f"{sent} alerts sent")


def _not_sent(context: dg.SensorEvaluationContext, cursor: dict[str, Any], sent: int,
              error: str) -> dg.SkipReason:
    # The cursor stays before the alert that failed: the next tick sends it again.
    context.log.error(f"alert not sent (retried on the next tick): {error}")
    context.update_cursor(json.dumps(cursor))
    return dg.SkipReason(f"{sent} alerts sent; the next one was not: {error}")


alert_sensors = [run_failure_alert, check_and_freshness_alerts]
