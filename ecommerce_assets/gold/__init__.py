"""Gold: the marts analysts read (customers, products, daily sales, enriched orders and users,
cohort retention), built in the warehouse from silver by the BigQuery SQL under ``sql/gold/``,
in USD through ``gold.fx_rates``, and checked by their Pandera schemas."""
