"""Freshness policies of the layers, applied in one place to every asset of the code location.

- **bronze**: a landing day's data is expected by ``ECOMMERCE_BRONZE_DUE_HOUR`` (UTC, default
  06:00) of the next day: each day at that hour bronze must have materialized within the
  24 hours before, else it is stale until it materializes again.
- **silver, gold, embeddings, marts**: refreshed from bronze within ``ECOMMERCE_REFRESH_LAG_MINUTES``
  (default 30) of bronze being due: the same daily window, ending that many minutes later.

These are Dagster's (non-beta) ``dg.FreshnessPolicy.cron`` policies: the UI shows each asset's
policy and state, the freshness daemon (on by default in ``dagster dev``) evaluates them every
30 s and records each change of state in the event log, where ``sensors/alerts.py`` reads the
failures. Dagster evaluates an asset's latest materialization, not each partition: a bronze
table is fresh when any of its days was (re)ingested in the window, which is what a daily
landing does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import dagster as dg

from resources import settings

WINDOW = dt.timedelta(days=1)  # the widest lower bound a daily cron allows
BRONZE_PREFIX = "bronze"
REFRESHED_PREFIXES = ("silver", "gold", "embeddings", "marts")


def _daily_cron(minute_of_day: int) -> str:
    minute_of_day %= 24 * 60
    return f"{minute_of_day % 60} {minute_of_day // 60} * * *"


def bronze_policy() -> dg.FreshnessPolicy:
    """Bronze: materialized within the day before ``ECOMMERCE_BRONZE_DUE_HOUR`` (UTC)."""
    return dg.FreshnessPolicy.cron(deadline_cron=_daily_cron(settings.bronze_due_hour() * 60),
                                   lower_bound_delta=WINDOW, timezone="UTC")


def refreshed_policy() -> dg.FreshnessPolicy:
    """Silver, gold and embeddings: the bronze window, due ``ECOMMERCE_REFRESH_LAG_MINUTES``
    later."""
    due = settings.bronze_due_hour() * 60 + settings.refresh_lag_minutes()
    return dg.FreshnessPolicy.cron(deadline_cron=_daily_cron(due), lower_bound_delta=WINDOW,
                                   timezone="UTC")


def policy_for(key: dg.AssetKey, policies: dict[str, dg.FreshnessPolicy] | None = None
               ) -> dg.FreshnessPolicy | None:
    """The layer's policy for an asset key (by its first part), None outside the layers.
    (``policies``: the two policies built already, by layer group.)"""
    layer = key.path[0]
    if layer == BRONZE_PREFIX:
        return policies["bronze"] if policies else bronze_policy()
    if layer in REFRESHED_PREFIXES:
        return policies["refreshed"] if policies else refreshed_policy()
    return None


def with_freshness(assets: Iterable[dg.AssetsDefinition | dg.AssetChecksDefinition]
                   ) -> Sequence[dg.AssetsDefinition | dg.AssetChecksDefinition]:
    """The assets with their layer's freshness policy on every spec (a policy an asset sets
    itself is kept)."""
    # Built once, not per asset: each FreshnessPolicy.cron() validates its cron string
    # (4 ms; 0.17 s of every run process's code load over the assets).
    policies = {"bronze": bronze_policy(), "refreshed": refreshed_policy()}

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        policy = policy_for(spec.key, policies)
        if policy is None or spec.freshness_policy is not None:
            return spec
        return spec.replace_attributes(freshness_policy=policy)

    # A checks-only definition is left as it is: mapping it would turn it into a plain
    # AssetsDefinition, which Dagster converts back with a BetaWarning on every load.
    assets = list(assets)
    checks_only = [d for d in assets if isinstance(d, dg.AssetChecksDefinition)]
    return [*dg.map_asset_specs(apply, [d for d in assets
                                        if not isinstance(d, dg.AssetChecksDefinition)]),
            *checks_only]
