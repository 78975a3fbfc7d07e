"""Unit tests of the reads stage."""
