"""Boards: pages, tiles, live pushes and tenant isolation."""
