"""Each UTC day's events as packed columns in PostgreSQL, read by the report engine."""
