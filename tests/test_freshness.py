"""Freshness policies: every layer asset carries one, and Dagster's freshness daemon fails an
asset that missed its window.

The daemon is Dagster's own ``FreshnessDaemon`` evaluating a real in-process workspace over a
real instance; only the clock is moved (``freeze_time``), to the deadlines the policies set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pytest
from dagster._core.definitions.freshness import FreshnessState
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import (
    InProcessTestWorkspaceLoadTarget,
    create_test_daemon_workspace_context,
    freeze_time,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._daemon.freshness import FreshnessDaemon

from ecommerce_assets.freshness import with_freshness
from tests.conftest import REPO

UTC = dt.UTC


@dg.asset(key=["bronze", "orders"])
def bronze_orders() -> None:
    pass


@dg.asset(key=["gold", "daily_sales"], deps=[bronze_orders])
def gold_daily_sales() -> None:
    pass


# Loaded by the workspace below (this file is its code location).
defs = dg.Definitions(assets=with_freshness([bronze_orders, gold_daily_sales]))


def test_every_layer_asset_has_its_layer_policy() -> None:
    from ecommerce_assets.definitions import defs as project_defs

    graph = project_defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    crons = {key.to_user_string(): graph.get(key).freshness_policy.deadline_cron for key in keys}
    assert len(crons) == 40  # 24 + the 16 marts tables
    assert {c for k, c in crons.items() if k.startswith("bronze/")} == {"0 6 * * *"}
    assert {c for k, c in crons.items() if not k.startswith("bronze/")} == {"30 6 * * *"}
    assert all(graph.get(key).freshness_policy.lower_bound_delta == dt.timedelta(days=1)
               for key in keys)


def test_policies_follow_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from ecommerce_assets import freshness

    monkeypatch.setenv("ECOMMERCE_BRONZE_DUE_HOUR", "23")
    monkeypatch.setenv("ECOMMERCE_REFRESH_LAG_MINUTES", "90")
    assert freshness.bronze_policy().deadline_cron == "0 23 * * *"
    assert freshness.refreshed_policy().deadline_cron == "30 0 * * *"  # past midnight
    assert freshness.policy_for(dg.AssetKey(["ops", "x"])) is None
    for name, value in (("ECOMMERCE_BRONZE_DUE_HOUR", "24"),
                        ("ECOMMERCE_REFRESH_LAG_MINUTES", "0"),
                        ("ECOMMERCE_REFRESH_LAG_MINUTES", "soon")):
        monkeypatch.setenv(name, value)
        with pytest.raises(ValueError, match=name):
            freshness.bronze_policy() if "HOUR" in name else freshness.refreshed_policy()
        monkeypatch.delenv(name)


@pytest.fixture
def workspace(tmp_path) -> Iterator[tuple[dg.DagsterInstance, object]]:
    origin = InProcessCodeLocationOrigin(LoadableTargetOrigin(
        python_file=__file__, attribute="defs", working_directory=str(REPO)))
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance, \
            create_test_daemon_workspace_context(InProcessTestWorkspaceLoadTarget(origin),
                                                 instance) as context:
        yield instance, context


def evaluate_freshness(context: object, at: dt.datetime) -> None:
    """One iteration of Dagster's freshness daemon, at time ``at``."""
    with freeze_time(at):
        asyncio.run(FreshnessDaemon()._evaluate_assets(workspace_process_context=context))


def states(instance: dg.DagsterInstance) -> dict[str, FreshnessState]:
    keys = [bronze_orders.key, gold_daily_sales.key]
    return {key.to_user_string(): record.freshness_state
            for key, record in instance.get_freshness_state_records(keys).items()}


def test_the_daemon_fails_an_asset_that_missed_its_window(workspace) -> None:
    instance, context = workspace
    landed = dt.datetime(2026, 11, 20, 23, 0, tzinfo=UTC)  # day 11-20's data, that evening
    evaluate_freshness(context, landed)
    assert set(states(instance).values()) == {FreshnessState.UNKNOWN}  # never materialized

    with freeze_time(landed):
        dg.materialize([bronze_orders, gold_daily_sales], instance=instance)
    assert instance.get_latest_materialization_event(bronze_orders.key).timestamp == \
        landed.timestamp()
    # Bronze is due each day at 06:00 UTC, the rest at 06:30: what landed counts for the next
    # deadline, and the asset goes stale at the deadline after it if nothing newer came.
    day = dt.datetime(2026, 11, 22, tzinfo=UTC)
    expected = {  # time on 11-22: (bronze, gold)
        (5, 59): (FreshnessState.PASS, FreshnessState.PASS),
        (6, 1): (FreshnessState.FAIL, FreshnessState.PASS),
        (6, 31): (FreshnessState.FAIL, FreshnessState.FAIL),
    }
    for (hour, minute), (bronze, gold) in expected.items():
        evaluate_freshness(context, day.replace(hour=hour, minute=minute))
        assert states(instance) == {"bronze/orders": bronze, "gold/daily_sales": gold}, \
            (hour, minute)
    evaluate_freshness(context, day.replace(hour=7))  # still stale: no new change recorded
    changes = instance.event_log_storage.get_event_records(
        dg.EventRecordsFilter(event_type=dg.DagsterEventType.FRESHNESS_STATE_CHANGE))
    failed = sorted(r.event_log_entry.dagster_event.asset_freshness_state_change_data
                    .key.to_user_string() for r in changes
                    if r.event_log_entry.dagster_event.asset_freshness_state_change_data
                    .new_state == FreshnessState.FAIL)
    assert failed == ["bronze/orders", "gold/daily_sales"]
