"""The marts layer: a Kimball star (SCD2 dimensions, facts, the purchase funnel) over silver."""
