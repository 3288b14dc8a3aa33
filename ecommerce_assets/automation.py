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
"""

from __future__ import annotations

import dagster as dg

# Every asset that writes the warehouse runs in this pool. On the embedded default the
# instance limits it to one step at a time (deploy/dagster.local.yaml), because DuckDB admits a single
# writer process; on BigQuery the limit can be raised.
WAREHOUSE_POOL = "warehouse"
# A step that fails on something transient (the DuckDB file held by another process past the
# lock wait, a network error) tries again, a bounded number of times, before its run fails.
WAREHOUSE_RETRY = dg.RetryPolicy(max_retries=2, delay=10, backoff=dg.Backoff.EXPONENTIAL)


def refresh_on_upstream_change() -> dg.AutomationCondition:
    """Refresh after any upstream asset (any partition of it) is updated."""
    # Daily landing-day partitions: some day is always "missing", which must not block.
    partitioned = dg.AssetSelection.key_prefixes(["bronze"])
    return (
        dg.AutomationCondition.eager()
        .replace("any_deps_missing",
                 dg.AutomationCondition.any_deps_missing().ignore(partitioned))
        .with_label("refresh_on_upstream_change")
    )
