"""Unit tests of webapp/boards."""
