"""Adapters from other products' wire formats (Segment, PostHog) onto /webhook's ingest path."""
