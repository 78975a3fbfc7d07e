"""Reads: stats, event listings and exports over time windows, from rollups, cache and indexes."""
