"""Store: what the worker calls to write a batch: the insert, rollups, unique-user sketches,
the property index, dead letters."""
