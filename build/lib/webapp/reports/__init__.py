"""Reports: funnels, retention, paths, breakdowns and user timelines, computed in PostgreSQL."""
