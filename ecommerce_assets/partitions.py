"""The one partitioning scheme of bronze: the day an object landed in the inbox (UTC)."""

from __future__ import annotations

import dagster as dg

from ecommerce_assets.formats import FIRST_LANDING_DATE

# end_offset=1: today's partition exists while today's files are still landing.
daily_partitions = dg.DailyPartitionsDefinition(start_date=FIRST_LANDING_DATE, end_offset=1,
                                                timezone="UTC")
