"""Unit tests of the store stage."""
