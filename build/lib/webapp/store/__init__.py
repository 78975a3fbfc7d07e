"""Store: what the worker calls to write a batch: the insert, rollups, unique-user sketches,
dead letters."""
