"""The one partitioning scheme of bronze: the day an object landed in the inbox (UTC)."""

from __future__ import annotations

import dagster as dg

# Landing dates before this are refused by seed.py and generate.py: the inbox layout
# {table}/date=YYYY-MM-DD/ needs a partition for every date it may hold.
BRONZE_START_DATE = "2024-01-01"

# end_offset=1: today's partition exists while today's files are still landing.
daily_partitions = dg.DailyPartitionsDefinition(start_date=BRONZE_START_DATE, end_offset=1,
                                                timezone="UTC")
