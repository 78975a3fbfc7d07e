"""Unit tests of webapp.cli."""
