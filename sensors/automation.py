"""The automation sensor: evaluates the assets' automation conditions (on by default)."""

from __future__ import annotations

import dagster as dg

from resources import settings

automation_sensor = dg.AutomationConditionSensorDefinition(
    "automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=settings.sensor_interval_s(),
    description="Refreshes silver, gold and embedding assets after their upstream assets "
                "change (see ecommerce_assets/automation.py).",
)
