"""The alert sensors post to a real local HTTP server, once per failed run, failed blocking
check and stale asset.

The sensors are the project's own, evaluated tick by tick over a real Dagster instance: the
runs are real materializations that fail, the check is a real blocking check that fails, and
the stale state is recorded by Dagster's freshness daemon (the clock moved past the deadline).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dagster as dg
import pytest
from dagster._core.test_utils import freeze_time

from ecommerce_assets.freshness import with_freshness
from sensors.alerts import check_and_freshness_alerts, post_alert, run_failure_alert
from tests.test_freshness import bronze_orders, evaluate_freshness, workspace  # noqa: F401


@dataclass
class Webhook:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200  # what it answers

    def texts(self) -> list[str]:
        return [message["text"] for message in self.received]


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    """A JSON-receiving HTTP server on a free loopback port, set as the alert webhook."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            assert self.headers["Content-Type"] == "application/json"
            if hook.status == 200:
                hook.received.append(json.loads(body))
            self.send_response(hook.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # quiet test output
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
        monkeypatch.setenv("ECOMMERCE_ALERT_WEBHOOK_URL", hook.url)
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dg.asset(key=["silver", "orders"])
def failing_orders() -> None:
    raise RuntimeError("the warehouse file is locked")


@dg.asset(key=["gold", "daily_sales"],
          check_specs=[dg.AssetCheckSpec("sums_match", asset=["gold", "daily_sales"],
                                         blocking=True),
                       dg.AssetCheckSpec("looks_odd", asset=["gold", "daily_sales"])])
def daily_sales() -> dg.MaterializeResult:
    return dg.MaterializeResult(check_results=[
        dg.AssetCheckResult(check_name="sums_match", passed=False,
                            description="revenue differs from order_items by 12.50",
                            metadata={"difference": 12.5}),
        dg.AssetCheckResult(check_name="looks_odd", passed=False)])  # not blocking: no alert


defs = dg.Definitions(assets=with_freshness([failing_orders, daily_sales]),
                      sensors=[run_failure_alert, check_and_freshness_alerts])


def tick(sensor: dg.SensorDefinition, instance: dg.DagsterInstance, cursor: str | None,
         with_definitions: bool = True) -> tuple[str | None, str | None]:
    """One evaluation of ``sensor``: (new cursor, skip message)."""
    # Runs materialized in-process have no code location: the run-failure sensor matches them
    # only when it has none either (Dagster's rule for tests).
    context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                      definitions=defs if with_definitions else None)
    result = sensor.evaluate_tick(context)
    return result.cursor, result.skip_message


def test_a_failed_run_posts_once(webhook: Webhook) -> None:
    with dg.instance_for_test() as instance:
        cursor, _ = tick(run_failure_alert, instance, None, with_definitions=False)
        result = dg.materialize([failing_orders], instance=instance, raise_on_error=False)
        assert not result.success
        cursor, _ = tick(run_failure_alert, instance, cursor, with_definitions=False)
        assert len(webhook.received) == 1
        message = webhook.received[0]
        assert message["alert"]["kind"] == "run_failure"
        assert message["alert"]["run_id"] == result.run_id
        assert message["alert"]["assets"] == ["silver/orders"]
        assert message["text"] == (f"Run {result.run_id[:8]} (silver/orders) failed: "
                                   "RuntimeError: the warehouse file is locked")
        tick(run_failure_alert, instance, cursor, with_definitions=False)
        assert len(webhook.received) == 1  # no duplicate on the next tick


def test_a_failed_blocking_check_posts_once(webhook: Webhook) -> None:
    with dg.instance_for_test() as instance:
        cursor, skip = tick(check_and_freshness_alerts, instance, None)
        assert "end of the event log" in skip
        result = dg.materialize([daily_sales], instance=instance, raise_on_error=False)
        cursor, skip = tick(check_and_freshness_alerts, instance, cursor)
        assert skip == "1 alerts sent"
        assert webhook.texts() == [
            "Blocking check sums_match on gold/daily_sales failed: revenue differs from "
            "order_items by 12.50 (downstream assets wait)"]
        fields = webhook.received[0]["alert"]
        assert fields == {"kind": "asset_check_failure", "asset_key": "gold/daily_sales",
                          "check_name": "sums_match", "run_id": result.run_id,
                          "description": "revenue differs from order_items by 12.50",
                          "metadata": {"difference": 12.5}}
        tick(check_and_freshness_alerts, instance, cursor)
        assert len(webhook.received) == 1  # no duplicate on the next tick


def test_a_stale_asset_posts_once(webhook: Webhook, workspace) -> None:
    instance, context = workspace  # the test_freshness code location: bronze/orders, gold/...
    landed = dt.datetime(2026, 11, 20, 23, 0, tzinfo=dt.UTC)
    with freeze_time(landed):
        dg.materialize([bronze_orders], instance=instance)
    evaluate_freshness(context, landed)  # PASS: recorded before the sensor starts
    cursor, _ = tick(check_and_freshness_alerts, instance, None)
    evaluate_freshness(context, dt.datetime(2026, 11, 22, 6, 1, tzinfo=dt.UTC))
    cursor, skip = tick(check_and_freshness_alerts, instance, cursor)
    assert skip == "1 alerts sent"
    assert webhook.texts() == ["bronze/orders is stale: it missed its freshness policy "
                               "(was PASS)"]
    assert webhook.received[0]["alert"]["kind"] == "asset_stale"
    evaluate_freshness(context, dt.datetime(2026, 11, 22, 7, 0, tzinfo=dt.UTC))  # still FAIL
    tick(check_and_freshness_alerts, instance, cursor)
    assert len(webhook.received) == 1  # no duplicate on the next tick


def test_without_a_webhook_the_sensors_skip_and_say_why(monkeypatch) -> None:
    monkeypatch.delenv("ECOMMERCE_ALERT_WEBHOOK_URL", raising=False)
    with dg.instance_for_test() as instance:
        cursor, _ = tick(run_failure_alert, instance, None, with_definitions=False)
        dg.materialize([failing_orders], instance=instance, raise_on_error=False)
        _, skip = tick(run_failure_alert, instance, cursor, with_definitions=False)
        assert skip == "ECOMMERCE_ALERT_WEBHOOK_URL is not set: no alert is sent"
        _, skip = tick(check_and_freshness_alerts, instance, None)
        assert skip == "ECOMMERCE_ALERT_WEBHOOK_URL is not set: no alert is sent"
        monkeypatch.setenv("ECOMMERCE_ALERT_WEBHOOK_URL", "file:///etc/passwd")
        _, skip = tick(check_and_freshness_alerts, instance, None)
        assert skip == ("ECOMMERCE_ALERT_WEBHOOK_URL is not an http:// or https:// URL: no "
                        "alert is sent")


def test_a_refused_post_is_logged_and_sent_on_a_later_tick(webhook: Webhook) -> None:
    with dg.instance_for_test() as instance:
        cursor, _ = tick(check_and_freshness_alerts, instance, None)
        dg.materialize([daily_sales], instance=instance, raise_on_error=False)
        webhook.status = 503
        assert post_alert(webhook.url, {"text": "x"}) == \
            "the webhook answered HTTP 503 Service Unavailable"
        cursor, skip = tick(check_and_freshness_alerts, instance, cursor)  # does not raise
        assert skip.startswith("0 alerts sent; the next one was not: the webhook answered HTTP "
                               "503") and webhook.received == []
        webhook.status = 200
        cursor, skip = tick(check_and_freshness_alerts, instance, cursor)
        assert skip == "1 alerts sent" and len(webhook.received) == 1
        tick(check_and_freshness_alerts, instance, cursor)
        assert len(webhook.received) == 1


def test_an_unreachable_webhook_is_an_error_message_not_an_exception() -> None:
    from tests.conftest import free_port

    error = post_alert(f"http://127.0.0.1:{free_port()}/", {"text": "x"}, timeout=5)
    assert error is not None and error.startswith("the webhook could not be reached")
