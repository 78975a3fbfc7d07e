"""Live: the worker's coalesced pushes, the web's streams, and the panels both render."""
