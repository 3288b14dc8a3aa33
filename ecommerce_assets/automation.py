"""Automation shared by every layer: when downstream assets refresh, and how runs share
the warehouse.

Silver, gold and embedding assets are unpartitioned tables downstream of the daily
``bronze/*`` partitions. ``AutomationCondition.eager()`` alone never fires for them while
any bronze day in the partition range is missing (its ``~any_deps_missing`` operand), which
is the normal state of a landing-day partition set, so that operand ignores bronze. What
stays: refresh after any dependency updated, but not while a dependency or the asset itself
is in progress, nor while an unpartitioned dependency (a silver or gold table) has never been
built and is not being built in the same run: gold must not read a silver table that does not
exist yet while its bronze is still landing. A burst of bronze partitions therefore produces
one downstream run once the burst has settled, not one per partition.

A bronze materialization that loaded no new row version (every object of the landing rejected,
or an md5 duplicate, or the same objects read again) is no update: bronze tags its run with
:func:`no_new_rows_tag` for that table, and the condition ignores bronze updates whose every
run carries it. Bronze still materializes: the inbox sensor reconciles by materializations.
"""

from __future__ import annotations

import functools
import operator

import dagster as dg

# Every asset that writes the warehouse runs in this pool. On the embedded default the
# instance limits it to one step at a time (deploy/dagster.local.yaml), because DuckDB admits a single
# writer process; on BigQuery the limit can be raised.
WAREHOUSE_POOL = "warehouse"
# A step that fails on something transient (the DuckDB file held by another process past the
# lock wait, a network error) tries again, a bounded number of times, before its run fails.
WAREHOUSE_RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL)


# Run tag (key prefix + bronze table name, value "true") a bronze run adds to itself when that
# table's materialization loaded no new row version.
NO_NEW_ROWS_TAG_PREFIX = "ecommerce/no_new_rows."


def no_new_rows_tag(table: str) -> str:
    return NO_NEW_ROWS_TAG_PREFIX + table


def _bronze_brought_rows() -> dg.AutomationCondition:
    """Some dependency is a bronze partition updated since the previous tick by a run that
    loaded new row versions of it (or is requested on this tick)."""
    from ecommerce_assets.bronze.spec import BRONZE_TABLES  # bronze imports this module

    return functools.reduce(operator.or_, (
        dg.AutomationCondition.any_deps_match(
            dg.AutomationCondition.newly_updated()
            & ~dg.AutomationCondition.executed_with_root_target()
            # One run per table tag: a run ingests several tables, each decides for itself.
            & ~dg.AutomationCondition.all_new_updates_have_run_tags(
                tag_values={no_new_rows_tag(name): "true"})
            | dg.AutomationCondition.will_be_requested(),
        ).allow(dg.AssetSelection.assets(dg.AssetKey(["bronze", name])))
        for name in BRONZE_TABLES)).with_label("bronze_loaded_new_rows")


def refresh_on_upstream_change() -> dg.AutomationCondition:
    """Refresh after any upstream asset (any partition of it) is updated; a bronze partition
    counts only when its run loaded new row versions."""
    # Daily landing-day partitions: some day is always "missing", which must not block.
    partitioned = dg.AssetSelection.key_prefixes(["bronze"])
    updated = (dg.AutomationCondition.any_deps_updated().ignore(partitioned)
               | _bronze_brought_rows()).with_label("any_deps_updated")
    return (
        dg.AutomationCondition.eager()
        .replace("any_deps_missing",
                 dg.AutomationCondition.any_deps_missing().ignore(partitioned))
        .replace("any_deps_updated", updated)
        .with_label("refresh_on_upstream_change")
    )
