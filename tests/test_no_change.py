"""No refresh without change, on a real ``dagster dev`` (webserver + daemon + both sensors).

An orders file lands and flows to ``silver/orders``. Then a drop that loads no new row
version lands: a file every row of which is rejected (no header naming the key), on the same
day, and a byte-for-byte copy of the first file (an md5 duplicate) on the day before. The
inbox sensor ingests both days, bronze tags each run ``ecommerce/no_new_rows.orders=true``,
and the automation sensor, ticking after those runs ended, launches nothing. Before that, in
process: which landings of one day count as new row versions.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.scheduler.instigation import InstigatorType, TickStatus

from ecommerce_assets.automation import no_new_rows_tag
from ecommerce_assets.bronze.assets import bronze_assets
from resources.deployment import build_resources
from tests.conftest import REPO
from tests.dagster_dev import DagsterDev, dagster_dev
from tests.test_pipeline_e2e import FINISHED, runs, wait_until

SAMPLE = REPO / "test_data" / "samples" / "orders.csv"
TAG = no_new_rows_tag("orders")
INTERVAL_S = 2
QUIET_TICKS = 3  # automation ticks after the drop's runs ended that must launch nothing


def land(home: Path, day: dt.date, name: str, text: str) -> None:
    folder = home / "buckets" / "inbox" / "orders" / f"date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.tmp").write_text(text)
    (folder / f"{name}.tmp").rename(folder / name)  # appears whole


def by_sensor(found: list[dict], sensor: str) -> list[dict]:
    """Runs launched by ``sensor``, newest first."""
    return [r for r in found if r["tags"].get("dagster/sensor_name") == sensor]


def settled(dev: DagsterDev, bronze_runs: int, automation_runs: int) -> list[dict] | None:
    found = runs(dev)
    done = (all(r["status"] in FINISHED for r in found)
            and len(by_sensor(found, "inbox_sensor")) >= bronze_runs
            and len(by_sensor(found, "automation")) >= automation_runs)
    return found if done else None


def automation_ticks_after(instance: dg.DagsterInstance, after: float) -> int:
    """Completed ticks of the automation sensor that started after ``after`` (a timestamp)."""
    for state in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR):
        if state.name == "automation":
            ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=20)
            return sum(1 for t in ticks if t.timestamp > after and t.status != TickStatus.STARTED)
    return 0


def test_bronze_says_which_landings_bring_new_row_versions(ecommerce_home: Path) -> None:
    orders = [dg.AssetKey(["bronze", "orders"])]
    resources = build_resources("local")
    day = dt.date(2026, 11, 20)
    sample = SAMPLE.read_text()

    def ingest() -> tuple[str, int, bool]:
        with dg.instance_for_test() as instance:
            result = dg.materialize(bronze_assets, selection=orders, resources=resources,
                                    instance=instance,
                                    partition_key=day.isoformat())
            tags = instance.get_run_by_id(result.run_id).tags
        (event,) = result.get_asset_materialization_events()
        metadata = event.step_materialization_data.materialization.metadata
        return (tags[TAG], metadata["new_row_versions"].value,
                metadata["loaded_versions_changed"].value)

    land(ecommerce_home, day, "orders.csv", sample)
    assert ingest() == ("false", 3, True)  # the sample's three orders
    assert ingest() == ("true", 0, False)  # the same object read again (from the archive)
    land(ecommerce_home, day, "oops.csv", "foo,bar\n1,2\n")
    assert ingest() == ("true", 0, False)  # rejected: no header naming order_id
    land(ecommerce_home, day, "orders_copy.csv", sample)
    assert ingest() == ("true", 0, False)  # same content under another name
    # The object re-landed with a corrected row: a new version of all its rows.
    land(ecommerce_home, day, "orders.csv", sample.replace("PROCESSING", "Shipped"))
    assert ingest() == ("false", 3, True)


def test_rows_of_a_run_that_failed_count_as_new_when_the_day_is_ingested_again(
        ecommerce_home: Path) -> None:
    """A run killed after committing a table but before recording its materialization ends
    FAILED: the run that ingests the day again must report those rows as new, or automation
    would never refresh silver with them."""
    orders = [dg.AssetKey(["bronze", "orders"])]
    resources = build_resources("local")
    day = dt.date(2026, 11, 20)
    land(ecommerce_home, day, "orders.csv", SAMPLE.read_text())
    with dg.instance_for_test() as instance:
        def ingest() -> tuple[str, int]:
            result = dg.materialize(bronze_assets, selection=orders, resources=resources,
                                    instance=instance, partition_key=day.isoformat())
            (event,) = result.get_asset_materialization_events()
            metadata = event.step_materialization_data.materialization.metadata
            return (instance.get_run_by_id(result.run_id).tags[TAG],
                    metadata["new_row_versions"].value), result.run_id

        (first, run_id) = ingest()
        assert first == ("false", 3)
        # The run ends FAILED, as run monitoring marks a run whose worker was killed.
        instance.report_run_failed(instance.get_run_by_id(run_id))
        assert ingest()[0] == ("false", 3)  # the day ingested again: its rows are new
        assert ingest()[0] == ("true", 0)  # and again, after a run that succeeded


@pytest.mark.slow
def test_a_drop_without_new_rows_launches_no_downstream_run(tmp_path: Path) -> None:
    home = tmp_path / "ecommerce"
    today = dt.datetime.now(dt.UTC).date()
    env = {"ECOMMERCE_SENSOR_INTERVAL_S": str(INTERVAL_S), "ECOMMERCE_SENSOR_DISCOVERY_S": "0",
           "ECOMMERCE_INBOX_SETTLE_S": "0"}
    with dagster_dev(tmp_path, env=env) as dev:
        wait_until(lambda: dev.graphql("{ assetNodes { id } }")["assetNodes"], 120,
                   "the code location", dev)
        sample = SAMPLE.read_text()
        land(home, today, "orders.csv", sample)
        found = wait_until(lambda: settled(dev, 1, 1), 120, "bronze, then silver/orders", dev)
        (first,) = by_sensor(found, "automation")
        assert first["status"] == "SUCCESS"
        assert {"/".join(a["path"]) for a in first["assetSelection"]} == {"silver/orders"}
        assert by_sensor(found, "inbox_sensor")[0]["tags"][TAG] == "false"

        # The drop: every object rejected (today), or an md5 duplicate (yesterday).
        land(home, today, "oops.csv", "foo,bar\n1,2\n")
        land(home, today - dt.timedelta(days=1), "orders_again.csv", sample)
        found = wait_until(lambda: settled(dev, 3, 1), 120, "the drop's bronze runs", dev)
        ended = time.time()
        drop = by_sensor(found, "inbox_sensor")[:2]
        assert sorted(r["tags"]["dagster/partition"] for r in drop) == sorted(
            [today.isoformat(), (today - dt.timedelta(days=1)).isoformat()])
        assert [(r["status"], r["tags"][TAG]) for r in drop] == [("SUCCESS", "true")] * 2
        with dg.DagsterInstance.from_config(str(dev.dagster_home)) as instance:
            wait_until(lambda: automation_ticks_after(instance, ended) >= QUIET_TICKS, 60,
                       "automation ticks after the drop", dev)
        assert [r["runId"] for r in by_sensor(runs(dev), "automation")] == [first["runId"]]
