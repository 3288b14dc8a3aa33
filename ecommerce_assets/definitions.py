"""The code location: every asset, check, sensor and resource assembled in one place."""

from __future__ import annotations

import dagster as dg

from resources.deployment import build_resources

defs = dg.Definitions(
    resources=build_resources(),
)
