"""The code location: every asset, check, sensor and resource assembled in one place."""

from __future__ import annotations

import dagster as dg

from ecommerce_assets.bronze.assets import bronze_assets
from ecommerce_assets.silver.assets import silver_definitions
from resources.deployment import build_resources

defs = dg.Definitions(
    assets=[*bronze_assets, *silver_definitions],
    resources=build_resources(),
)
