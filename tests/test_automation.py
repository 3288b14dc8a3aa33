"""The downstream automation condition, evaluated as the automation sensor does."""

from __future__ import annotations

import dagster as dg

from ecommerce_assets.automation import no_new_rows_tag, refresh_on_upstream_change
from ecommerce_assets.partitions import daily_partitions

DAYS = ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]


@dg.asset(key=["bronze", "orders"], partitions_def=daily_partitions)
def bronze_orders() -> None:
    return None


@dg.asset(key=["silver", "orders"], deps=[bronze_orders],
          automation_condition=refresh_on_upstream_change())
def silver_orders() -> None:
    return None


def requested(result: dg.EvaluateAutomationConditionsResult) -> int:
    return result.get_num_requested(silver_orders.key)


def test_a_burst_of_bronze_partitions_is_one_downstream_run() -> None:
    with dg.instance_for_test() as instance:
        defs = [bronze_orders, silver_orders]
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert requested(first) == 0  # nothing landed yet
        # Four landing days arrive, most of the daily partitions are still missing.
        for day in DAYS:
            dg.materialize([bronze_orders], instance=instance, partition_key=day)
        burst = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                  cursor=first.cursor)
        assert requested(burst) == 1  # one refresh for four partitions, not four
        dg.materialize([silver_orders], instance=instance)
        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                  cursor=burst.cursor)
        assert requested(quiet) == 0  # nothing new upstream: no run
        dg.materialize([bronze_orders], instance=instance, partition_key="2026-11-24")
        again = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                  cursor=quiet.cursor)
        assert requested(again) == 1


def test_stock_eager_never_fires_while_bronze_days_are_missing() -> None:
    """Why the project's condition drops eager()'s ~any_deps_missing operand."""

    @dg.asset(key=["silver", "orders"], deps=[bronze_orders],
              automation_condition=dg.AutomationCondition.eager())
    def eager_orders() -> None:
        return None

    with dg.instance_for_test() as instance:
        defs = [bronze_orders, eager_orders]
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        for day in DAYS:
            dg.materialize([bronze_orders], instance=instance, partition_key=day)
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                   cursor=first.cursor)
        assert result.get_num_requested(eager_orders.key) == 0


def test_no_refresh_while_bronze_is_in_progress() -> None:
    with dg.instance_for_test() as instance:
        defs = [bronze_orders, silver_orders]
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        dg.materialize([bronze_orders], instance=instance, partition_key=DAYS[0])
        # Another bronze day is being ingested (the burst is not over yet).
        job = dg.Definitions(assets=[bronze_orders]).resolve_implicit_global_asset_job_def()
        instance.create_run_for_job(job, asset_selection={bronze_orders.key},
                                    tags={"dagster/partition": DAYS[1]},
                                    status=dg.DagsterRunStatus.STARTED)
        held = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                 cursor=first.cursor)
        assert requested(held) == 0


@dg.asset(key=["silver", "users"], automation_condition=refresh_on_upstream_change())
def silver_users() -> None:
    return None


@dg.asset(key=["gold", "customers"], deps=[silver_orders, silver_users],
          automation_condition=refresh_on_upstream_change())
def gold_customers() -> None:
    return None


def test_gold_waits_for_a_silver_table_that_was_never_built() -> None:
    """Bronze days land at different times: one silver table may refresh while another
    (its bronze still landing) has never been built. Gold must not run against that gap."""
    with dg.instance_for_test() as instance:
        defs = [bronze_orders, silver_orders, silver_users, gold_customers]
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        dg.materialize([silver_orders], instance=instance)  # users: never built yet
        waiting = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                    cursor=first.cursor)
        assert waiting.get_num_requested(gold_customers.key) == 0
        dg.materialize([silver_users], instance=instance)
        ready = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                  cursor=waiting.cursor)
        assert ready.get_num_requested(gold_customers.key) == 1


@dg.asset(key=["bronze", "users"], partitions_def=daily_partitions)
def bronze_users() -> None:
    return None


NO_NEW_ORDERS = {no_new_rows_tag("orders"): "true"}


def settled(instance: dg.DagsterInstance, defs: list) -> dg.EvaluateAutomationConditionsResult:
    """A tick after everything was built once (the run-tag conditions read the events after
    the previous tick's last event, so there must be one)."""
    dg.materialize(defs, instance=instance, partition_key=DAYS[-1])
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)


def test_a_bronze_run_that_loaded_no_new_rows_refreshes_nothing() -> None:
    with dg.instance_for_test() as instance:
        defs = [bronze_orders, silver_orders]
        first = settled(instance, defs)
        assert requested(first) == 0
        dg.materialize([bronze_orders], instance=instance, partition_key=DAYS[0],
                       tags=NO_NEW_ORDERS)
        quiet = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                  cursor=first.cursor)
        assert requested(quiet) == 0  # e.g. every object rejected
        dg.materialize([bronze_orders], instance=instance, partition_key=DAYS[0],
                       tags={no_new_rows_tag("orders"): "false"})
        changed = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                    cursor=quiet.cursor)
        assert requested(changed) == 1


def test_new_rows_count_though_a_later_run_of_the_day_brought_none() -> None:
    with dg.instance_for_test() as instance:
        defs = [bronze_orders, silver_orders]
        first = settled(instance, defs)
        # Between two ticks: a run that loaded rows, then one that loaded nothing new.
        dg.materialize([bronze_orders], instance=instance, partition_key=DAYS[0])
        dg.materialize([bronze_orders], instance=instance, partition_key=DAYS[0],
                       tags=NO_NEW_ORDERS)
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                   cursor=first.cursor)
        assert requested(result) == 1


def test_the_tag_of_one_table_does_not_hide_another_tables_rows() -> None:
    @dg.asset(key=["silver", "users"], deps=[bronze_users],
              automation_condition=refresh_on_upstream_change())
    def users_of_bronze() -> None:
        return None

    with dg.instance_for_test() as instance:
        defs = [bronze_orders, bronze_users, silver_orders, users_of_bronze]
        first = settled(instance, defs)
        # One landing-day run of both tables: orders brought nothing new, users did.
        dg.materialize([bronze_orders, bronze_users], instance=instance,
                       partition_key=DAYS[0],
                       tags={**NO_NEW_ORDERS, no_new_rows_tag("users"): "false"})
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                   cursor=first.cursor)
        assert requested(result) == 0
        assert result.get_num_requested(users_of_bronze.key) == 1
