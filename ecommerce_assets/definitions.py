"""The code location: every asset, check, job, sensor and resource assembled in one place."""

from __future__ import annotations

import warnings

import dagster as dg

from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.embeddings.assets import embedding_definitions
from ecommerce_assets.freshness import with_freshness
from ecommerce_assets.gold.assets import gold_definitions
from ecommerce_assets.inbox_rejects import inbox_rejects
from ecommerce_assets.marts.assets import marts_assets
from ecommerce_assets.silver.assets import silver_assets, silver_full_refresh_job
from resources.deployment import build_resources
from sensors.alerts import alert_sensors
from sensors.automation import automation_sensor
from sensors.inbox_sensor import bronze_ingest, inbox_sensor
from sensors.orphaned_runs import orphaned_runs_sensor

defs = dg.Definitions(
    # Each layer's freshness policy is applied here, in one place (ecommerce_assets/freshness.py).
    assets=with_freshness([*bronze_assets, *silver_assets, *gold_definitions,
                           *embedding_definitions, *marts_assets]),
    jobs=[bronze_ingest, inbox_rejects, silver_full_refresh_job],
    sensors=[inbox_sensor, automation_sensor, orphaned_runs_sensor, *alert_sensors],
    resources=build_resources(),
    # Steps run one after another inside the run's process: warehouse steps are serialized
    # by the pool anyway, and a step subprocess per asset would only add start-up time.
    executor=dg.in_process_executor,
)

# Dagster 1.13 rebuilds a sensor to bind resources to its op jobs and passes its (empty)
# owners on, which warns that the beta `owners` parameter was used: nothing a user can act on.
# The repository is built once here with exactly that warning silenced; Dagster caches it.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=dg.BetaWarning,
                            message="Parameter `owners` of initializer `SensorDefinition")
    defs.get_repository_def()
