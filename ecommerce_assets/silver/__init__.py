"""Silver: the deduplicated, typed, standardized tables, built in the warehouse from bronze by
the BigQuery SQL under ``sql/silver/`` and checked by their Pandera schemas."""
