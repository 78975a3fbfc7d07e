"""Ingest: the door events come in by (validation, ids, rate limits, signatures), and the group
commit, journal and queue that make a 202 durable."""
