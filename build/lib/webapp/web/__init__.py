"""Web: the HTTP routes (API, dashboard, management pages) and the keyed webhook's fast path."""
